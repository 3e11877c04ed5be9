using System.Security.Cryptography;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Dashboard;

/// <summary>
/// The dashboard's sessions in Postgres (<c>dashboard_sessions</c>), so the cookie carries only a
/// random id (64 hex digits), every replica finds the session, and signing out deletes it: a
/// copied cookie is dead at once. The ticket holds the signed-in token's id and the SHA-256 of its
/// secret, never the secret.
/// </summary>
public sealed class DashboardSessionStore(IDbContextFactory<ControlPlaneDbContext> contexts, TimeProvider time) : ITicketStore
{
    private static readonly TicketSerializer Serializer = TicketSerializer.Default;

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var principal = ticket.Principal;
        await using var db = await contexts.CreateDbContextAsync();
        db.DashboardSessions.Add(new DashboardSession
        {
            Id = id,
            AccountId = principal.FindFirst(DashboardClaims.AccountId)?.Value,
            TokenId = principal.FindFirst(DashboardClaims.TokenId)?.Value,
            CredentialSha256 = Convert.FromHexString(principal.FindFirst(DashboardClaims.CredentialSha256)!.Value),
            Ticket = Serializer.Serialize(ticket),
            CreatedOn = time.GetUtcNow().UtcDateTime,
            ExpiresOn = ExpiryOf(ticket),
        });
        await db.SaveChangesAsync();
        return id;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var bytes = Serializer.Serialize(ticket);
        var expires = ExpiryOf(ticket);
        await db.DashboardSessions.Where(s => s.Id == key)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Ticket, bytes).SetProperty(s => s.ExpiresOn, expires));
    }

    /// <summary>The session's ticket, or null when it was signed out, expired or never existed.</summary>
    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        if (key.Length != 64)
        {
            return null;
        }

        await using var db = await contexts.CreateDbContextAsync();
        var now = time.GetUtcNow().UtcDateTime;
        var session = await db.DashboardSessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == key && s.ExpiresOn > now);
        return session is null ? null : Serializer.Deserialize(session.Ticket);
    }

    public async Task RemoveAsync(string key)
    {
        await using var db = await contexts.CreateDbContextAsync();
        await db.DashboardSessions.Where(s => s.Id == key).ExecuteDeleteAsync();
    }

    private DateTime ExpiryOf(AuthenticationTicket ticket) =>
        (ticket.Properties.ExpiresUtc ?? time.GetUtcNow().AddHours(8)).UtcDateTime;
}

/// <summary>The claims of a dashboard session.</summary>
public static class DashboardClaims
{
    public const string TokenId = "token_id";
    public const string AccountId = "account_id";
    public const string CredentialSha256 = "credential_sha256";
    public const string Role = System.Security.Claims.ClaimTypes.Role;
}
