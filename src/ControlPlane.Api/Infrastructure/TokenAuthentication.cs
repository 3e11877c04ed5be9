using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Customer API tokens: the secret's SHA-256 finds the token; revoked, expired and
/// not-yet-valid tokens are 401. On success the request's tenant is fixed to the
/// token's account. <c>last_used_on</c> is written at most once a minute per token.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ControlPlaneDbContext db,
    RequestTenant tenant,
    Caller caller,
    TimeProvider time)
    : EnvelopeAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "Token";
    public const string TokenIdClaim = "token_id";
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadBearer(out var secret) is { } early)
        {
            return early;
        }

        var hash = Ids.Hash(secret);
        var token = await db.ApiTokens.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(t => t.SecretHash == hash, Context.RequestAborted);
        var now = time.GetUtcNow().UtcDateTime;
        if (token is null || token.RevokedOn is not null || token.ExpiresOn <= now || token.NotBefore > now)
        {
            return Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token");
        }

        if (token.LastUsedOn is null || now - token.LastUsedOn > LastUsedResolution)
        {
            await db.ApiTokens.IgnoreQueryFilters().Where(t => t.Id == token.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedOn, now), Context.RequestAborted);
        }

        tenant.Set(token.AccountId);
        caller.SetToken(token);
        var identity = new ClaimsIdentity([new Claim(TokenIdClaim, token.Id), new Claim(ClaimTypes.Role, "customer")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
