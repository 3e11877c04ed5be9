using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Zones;

/// <summary>
/// Loads a zone for a customer route. The order of checks is the security contract:
/// a malformed id is 404/7003; a zone that does not exist, or belongs to another
/// tenant (the query filter hides it), is 404/1001; only then is a missing permission
/// 403, so nothing about other tenants' zones leaks.
/// </summary>
public static class ZoneAccess
{
    public static async Task<(Zone? Zone, JsonHttpResult<ApiEnvelope<object>>? Error)> FindAsync(
        ControlPlaneDbContext db, Caller caller, string zoneId, PermissionGroup permission, CancellationToken cancellationToken, bool track = false)
    {
        if (!Ids.IsWellFormed(zoneId))
        {
            return (null, ApiResults.MalformedId("zone"));
        }

        var query = db.Zones.Include(z => z.Account).Include(z => z.Addresses).Where(z => z.Id == zoneId);
        var zone = await (track ? query : query.AsNoTracking()).SingleOrDefaultAsync(cancellationToken);
        if (zone is null)
        {
            return (null, ApiResults.NotFound(ErrorCodes.UnknownZone, "Invalid zone identifier"));
        }

        return caller.Can(permission, zone.Id) ? (zone, null) : (null, ApiResults.Forbidden());
    }
}
