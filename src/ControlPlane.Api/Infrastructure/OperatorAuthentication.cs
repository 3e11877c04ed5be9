using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Settings of the operator credential (section <c>Operator</c>). Only the SHA-256 of
/// the token is ever configured: the run command generates the token, shows it once
/// and hands the API its hash.
/// </summary>
public sealed class OperatorOptions
{
    public const string Section = "Operator";

    /// <summary>Lowercase hex SHA-256 of the operator bearer token.</summary>
    public string TokenSha256 { get; set; } = "";
}

/// <summary>
/// Bearer authentication for the operator API. Failures are answered in the envelope
/// with Cloudflare's codes: no credentials 400/9106, a malformed header 400/6003,
/// a wrong token 401/1000.
/// </summary>
public sealed class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<OperatorOptions> operatorOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Operator";
    private const string FailureKey = "operator-auth-failure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            // Not a failure yet: anonymous routes (health, Swagger) pass through.
            // The challenge below answers 9106 if the route needed a credential.
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length <= 7)
        {
            return Fail(StatusCodes.Status400BadRequest, ErrorCodes.MalformedAuthorizationHeader, "Invalid format for Authorization header");
        }

        var expected = operatorOptions.Value.TokenSha256;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim()));
        if (expected.Length != 64 || !CryptographicOperations.FixedTimeEquals(presented, Convert.FromHexString(expected)))
        {
            return Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, "operator")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var (status, code, message) = Context.Items[FailureKey] as (int, int, string)?
            ?? (StatusCodes.Status400BadRequest, ErrorCodes.MissingCredentials, "Missing Authorization header");
        return EnvelopeErrors.WriteFailureAsync(Context, status, code, message);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        EnvelopeErrors.WriteFailureAsync(Context, StatusCodes.Status403Forbidden, ErrorCodes.AuthenticationError, "Authentication error");

    private Task<AuthenticateResult> Fail(int status, int code, string message)
    {
        Context.Items[FailureKey] = (status, code, message);
        return Task.FromResult(AuthenticateResult.Fail(message));
    }
}
