using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The one check of a customer API token, for the bearer scheme and the dashboard's sessions:
/// the secret's SHA-256 finds the token, from <see cref="TokenCache"/> after its first use,
/// else with one query; revoked, expired and not-yet-valid tokens fail with 401 / code 1000
/// (expiry and not-before are checked against the clock on every call, cached or not); a token
/// used from outside its <c>condition.request_ip</c> fails with 403 / code 9109.
/// </summary>
public sealed class TokenAuthenticator(ControlPlaneDbContext db, TokenCache cache, TimeProvider time)
{
    /// <summary>The token of <paramref name="secretHash"/> if it may be used now from <paramref name="client"/>; otherwise why not, in the envelope's terms.</summary>
    public async Task<TokenCheck> CheckAsync(byte[] secretHash, System.Net.IPAddress? client, CancellationToken cancellationToken)
    {
        var token = cache.Find(secretHash);
        if (token is null)
        {
            var generation = cache.Generation;
            // Authentication finds the token before anyone knows its tenant: the one
            // deliberate bypass of the tenant filter.
            token = await db.ApiTokens.IgnoreQueryFilters([QueryFilters.Tenant]).AsNoTracking()
                .SingleOrDefaultAsync(t => t.SecretHash == secretHash, cancellationToken);
            if (token is { RevokedOn: null })
            {
                cache.Add(secretHash, token, generation);
            }
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (token is null || token.RevokedOn is not null || token.ExpiresOn <= now || token.NotBefore > now)
        {
            return new TokenCheck(null, StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token");
        }

        // The token's condition, as Cloudflare enforces it: 403 with code 9109 naming the address.
        if (token.Condition is { } condition && !condition.Allows(client))
        {
            return new TokenCheck(null, StatusCodes.Status403Forbidden, ErrorCodes.TokenLocationRefused, $"Cannot use the access token from location: {client}");
        }

        return new TokenCheck(token, StatusCodes.Status200OK, 0, "");
    }
}

/// <summary>A token check's outcome: the token, or the status, code and message to refuse with.</summary>
public sealed record TokenCheck(ApiToken? Token, int Status, int Code, string Message);

/// <summary>
/// Customer API tokens as bearer credentials (<see cref="TokenAuthenticator"/> checks them). On
/// success the request's tenant scope becomes the token's account, and the use is recorded for
/// the batched <c>last_used_on</c> write (<see cref="TokenUsage"/>).
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenAuthenticator authenticator,
    RequestTenant tenant,
    Caller caller,
    TokenUsage usage,
    TimeProvider time)
    : EnvelopeAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "Token";
    public const string TokenIdClaim = "token_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadBearer(out var secret) is { } early)
        {
            return early;
        }

        var check = await authenticator.CheckAsync(Ids.Hash(secret), ClientAddress.Of(Context), Context.RequestAborted);
        if (check.Token is not { } token)
        {
            return Fail(check.Status, check.Code, check.Message);
        }

        usage.Record(token.Id, time.GetUtcNow().UtcDateTime);
        tenant.SetCustomer(token.AccountId);
        caller.SetToken(token);
        var identity = new ClaimsIdentity([new Claim(TokenIdClaim, token.Id), new Claim(ClaimTypes.Role, "customer")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
