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
    /// <summary>
    /// The read of every zone route, compiled once: EF's per-call LINQ translation and query-cache
    /// lookup were a large share of a zone read's time (see docs/benchmarks-api.md).
    /// </summary>
    private static readonly Func<ControlPlaneDbContext, string, CancellationToken, Task<Zone?>> ZoneById =
        EF.CompileAsyncQuery((ControlPlaneDbContext db, string id, CancellationToken _) =>
            db.Zones.AsNoTracking().Include(z => z.Account).Include(z => z.Addresses).SingleOrDefault(z => z.Id == id));

    /// <summary>Loads the zone for reading (untracked).</summary>
    public static Task<(Zone? Zone, JsonHttpResult<ApiEnvelope<object>>? Error)> FindAsync(
        ControlPlaneDbContext db, Caller caller, string zoneId, PermissionGroup permission, CancellationToken cancellationToken) =>
        CheckAsync(zoneId, caller, permission, () => ZoneById(db, zoneId, cancellationToken));

    /// <summary>
    /// Loads the zone for a write, tracked, inside the unit of work's transaction and with its
    /// row locked (<c>FOR NO KEY UPDATE</c>) until the commit, so concurrent writes to one zone
    /// apply in turn, each to the state the previous one left.
    /// </summary>
    public static async Task<(Zone? Zone, JsonHttpResult<ApiEnvelope<object>>? Error)> FindForWriteAsync(
        ControlPlaneDbContext db, UnitOfWork work, Caller caller, string zoneId, PermissionGroup permission, CancellationToken cancellationToken)
    {
        if (Ids.IsWellFormed(zoneId))
        {
            await work.BeginAsync(cancellationToken);
        }

        return await CheckAsync(zoneId, caller, permission, () => db.Zones
            .FromSql($"SELECT * FROM zones WHERE id = {zoneId} FOR NO KEY UPDATE")
            .Include(z => z.Account).Include(z => z.Addresses)
            .SingleOrDefaultAsync(cancellationToken));
    }

    private static async Task<(Zone? Zone, JsonHttpResult<ApiEnvelope<object>>? Error)> CheckAsync(
        string zoneId, Caller caller, PermissionGroup permission, Func<Task<Zone?>> load)
    {
        if (!Ids.IsWellFormed(zoneId))
        {
            return (null, ApiResults.MalformedId("zone"));
        }

        var zone = await load();
        if (zone is null)
        {
            return (null, ApiResults.NotFound(ErrorCodes.UnknownZone, "Invalid zone identifier"));
        }

        return caller.Can(permission, zone.Id) ? (zone, null) : (null, ApiResults.Forbidden());
    }
}
