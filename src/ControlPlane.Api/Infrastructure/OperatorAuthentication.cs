using ControlPlane.Api.Data;
using System.Security.Claims;
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

/// <summary>Bearer authentication for the operator API, against the configured hash.</summary>
public sealed class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<OperatorOptions> operatorOptions,
    RequestTenant tenant,
    Caller caller)
    : EnvelopeAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "Operator";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadBearer(out var token) is { } early)
        {
            return Task.FromResult(early);
        }

        if (!Bearer.MatchesSha256(token, operatorOptions.Value.TokenSha256))
        {
            return Task.FromResult(Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token"));
        }

        caller.SetOperator();
        tenant.SetOperator();
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, "operator")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
