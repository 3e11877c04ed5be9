using System.Net;
using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The optional plaintext listener (section <c>Plaintext</c>): off unless enabled with
/// trusted proxy addresses, for a TLS-terminating proxy in front.
/// </summary>
public sealed class PlaintextOptions
{
    public const string Section = "Plaintext";

    public bool Enabled { get; set; }

    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The plaintext port (0 picks a free one, for tests).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>The only peers whose plaintext requests are served.</summary>
    public string[] TrustedProxies { get; set; } = [];
}

/// <summary>
/// Plaintext tokens are burned: a request that arrives without TLS from anyone but a
/// trusted proxy is refused, and the API token it carried (it crossed the network in
/// the clear) is revoked and the revocation audited.
/// </summary>
public sealed class PlaintextGuard(RequestDelegate next, IOptions<PlaintextOptions> options, ILogger<PlaintextGuard> logger)
{
    private readonly HashSet<IPAddress> trusted = options.Value.TrustedProxies.Select(IPAddress.Parse).Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToHashSet();

    public async Task InvokeAsync(HttpContext context, ControlPlaneDbContext db, RequestTenant tenant, Audit audit, UnitOfWork work, TimeProvider time)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (context.Request.IsHttps || (peer is not null && trusted.Contains(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer)))
        {
            await next(context);
            return;
        }

        var revoked = false;
        if (Bearer.TryRead(context.Request, out var secret) == Bearer.Outcome.Present)
        {
            var hash = Ids.Hash(secret);
            // Whichever account the exposed token belongs to, it is revoked: system work.
            tenant.SetSystem();
            var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.SecretHash == hash, context.RequestAborted);
            if (token is { RevokedOn: null })
            {
                token.Revoke(time.GetUtcNow().UtcDateTime, "exposed over plaintext HTTP");
                audit.Record("token.revoke", "api_token", token.Id, token.AccountId, null, new { token.Id, status = "disabled", reason = token.RevokedReason },
                    metadata: new { path = context.Request.Path.Value });
                await work.CommitAsync(context.RequestAborted);
                revoked = true;
                logger.LogWarning("Revoked token {TokenId}: it was sent over plaintext HTTP from {Peer}", token.Id, peer);
            }
        }

        context.Response.Headers.Connection = "close";
        await EnvelopeErrors.WriteFailureAsync(context, StatusCodes.Status403Forbidden, ErrorCodes.PlaintextRefused,
            revoked
                ? "Plaintext HTTP is refused. The API token in this request crossed the network unencrypted and has been revoked."
                : "Plaintext HTTP is refused; use HTTPS.");
    }
}
