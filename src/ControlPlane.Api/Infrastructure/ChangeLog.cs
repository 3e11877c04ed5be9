using ControlPlane.Api.Data;
using ControlPlane.Contracts;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The change log's rows (DESIGN §3) are written by <see cref="UnitOfWork.CommitAsync"/>;
/// this is what a row says about each zone.
/// </summary>
public static class ChangeLog
{
    /// <summary>What an edge enforces for a zone; a deleted zone enforces nothing.</summary>
    public static ZoneEdgeState EdgeState(Zone zone) => new(
        zone.Id,
        zone.Revision,
        zone.DeletedOn is null ? zone.Addresses.Select(a => a.Address).Order(StringComparer.Ordinal).ToList() : [],
        zone.DeletedOn is null && zone.HttpPortsClosed,
        null);
}
