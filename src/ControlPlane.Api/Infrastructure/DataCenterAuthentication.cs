using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>The edge API's scheme: the agent credential returned when the DC was registered (stored as SHA-256).</summary>
public sealed class DataCenterAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ControlPlaneDbContext db,
    RequestTenant tenant)
    : EnvelopeAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "DataCenter";
    public const string DataCenterClaim = "data_center";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadBearer(out var credential) is { } early)
        {
            return early;
        }

        var hash = Ids.Hash(credential);
        var dataCenter = await db.DataCenters.AsNoTracking().SingleOrDefaultAsync(d => d.CredentialHash == hash, Context.RequestAborted);
        if (dataCenter is null)
        {
            return Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid agent credential");
        }

        // The edge API serves every zone's edge state: system work, not a tenant's.
        tenant.SetSystem();
        var identity = new ClaimsIdentity([new Claim(DataCenterClaim, dataCenter.Code), new Claim(ClaimTypes.Role, "edge")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
