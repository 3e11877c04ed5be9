using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Customer API tokens: the secret's SHA-256 finds the token, from <see cref="TokenCache"/>
/// after its first use, else with one query; revoked, expired and not-yet-valid tokens are
/// 401 (expiry and not-before are checked against the clock on every request, cached or
/// not); a token used from outside its <c>condition.request_ip</c> is 403, code 9109. On success the request's tenant scope becomes the token's account, and the use is
/// recorded for the batched <c>last_used_on</c> write (<see cref="TokenUsage"/>).
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ControlPlaneDbContext db,
    RequestTenant tenant,
    Caller caller,
    TokenCache cache,
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

        var hash = Ids.Hash(secret);
        var token = cache.Find(hash);
        if (token is null)
        {
            var generation = cache.Generation;
            // Authentication finds the token before anyone knows its tenant: the one
            // deliberate bypass of the tenant filter.
            token = await db.ApiTokens.IgnoreQueryFilters([QueryFilters.Tenant]).AsNoTracking()
                .SingleOrDefaultAsync(t => t.SecretHash == hash, Context.RequestAborted);
            if (token is { RevokedOn: null })
            {
                cache.Add(hash, token, generation);
            }
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (token is null || token.RevokedOn is not null || token.ExpiresOn <= now || token.NotBefore > now)
        {
            return Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token");
        }

        // The token's condition, as Cloudflare enforces it: 403 with code 9109 naming the address.
        var client = ClientAddress.Of(Context);
        if (token.Condition is { } condition && !condition.Allows(client))
        {
            return Fail(StatusCodes.Status403Forbidden, ErrorCodes.TokenLocationRefused, $"Cannot use the access token from location: {client}");
        }

        usage.Record(token.Id, now);
        tenant.SetCustomer(token.AccountId);
        caller.SetToken(token);
        var identity = new ClaimsIdentity([new Claim(TokenIdClaim, token.Id), new Claim(ClaimTypes.Role, "customer")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
