using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Base of the API's bearer schemes: failures are answered in the envelope with
/// Cloudflare's codes (no credentials 400/9106, a malformed header 400/6003, a bad
/// token 401/1000, a missing permission 403/10000).
/// </summary>
public abstract class EnvelopeAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string FailureKey = "auth-failure";

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var (status, code, message) = Context.Items[FailureKey] as (int, int, string)?
            ?? (StatusCodes.Status400BadRequest, ErrorCodes.MissingCredentials, "Missing Authorization header");
        return EnvelopeErrors.WriteFailureAsync(Context, status, code, message);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        EnvelopeErrors.WriteFailureAsync(Context, StatusCodes.Status403Forbidden, ErrorCodes.AuthenticationError, "Authentication error");

    /// <summary>Reads the bearer token; returns a result to hand back when there is none to check.</summary>
    protected AuthenticateResult? ReadBearer(out string token) => Bearer.TryRead(Request, out token) switch
    {
        // Not a failure yet: anonymous routes (health, Swagger) pass through.
        // The challenge answers 9106 if the route needed a credential.
        Bearer.Outcome.Missing => AuthenticateResult.NoResult(),
        Bearer.Outcome.Malformed => Fail(StatusCodes.Status400BadRequest, ErrorCodes.MalformedAuthorizationHeader, "Invalid format for Authorization header"),
        _ => null,
    };

    protected AuthenticateResult Fail(int status, int code, string message)
    {
        Context.Items[FailureKey] = (status, code, message);
        return AuthenticateResult.Fail(message);
    }
}
