using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Contracts;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Appends the change-log row of a transaction that changes what edges enforce (DESIGN §3).
/// Call it last, inside the transaction: it takes the next revision by updating the
/// single sequencer row, whose row lock then orders the commits, so revisions are
/// dense, gap-free (a rollback gives the number back) and ordered as commits are.
/// </summary>
public sealed class ChangeLog(ControlPlaneDbContext db, TimeProvider time)
{
    public async Task<long> AppendAsync(IReadOnlyList<Zone> zones, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("The change log is written inside the transaction of the change.");
        }

        // Everything else first, so the sequencer lock is held as briefly as possible.
        await db.SaveChangesAsync(cancellationToken);
        // An UPDATE … RETURNING cannot be composed over (no LIMIT), so it is read as a list.
        var revision = (await db.Database
            .SqlQuery<long>($"UPDATE revision_sequencer SET last_revision = last_revision + 1 WHERE id = 1 RETURNING last_revision AS \"Value\"")
            .ToListAsync(cancellationToken)).Single();

        foreach (var zone in zones)
        {
            zone.Revision = revision;
        }

        db.ChangeLog.Add(new ChangeLogEntry
        {
            Revision = revision,
            CreatedOn = time.GetUtcNow().UtcDateTime,
            Zones = JsonSerializer.Serialize(zones.Select(EdgeState).ToList(), JsonSerializerOptions.Web),
        });
        await db.SaveChangesAsync(cancellationToken);
        // Delivered at commit to every replica's dispatcher that LISTENs.
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({ChangeDispatcher.Channel}, {revision.ToString(System.Globalization.CultureInfo.InvariantCulture)})", cancellationToken);
        return revision;
    }

    /// <summary>What an edge enforces for a zone; a deleted zone enforces nothing.</summary>
    public static ZoneEdgeState EdgeState(Zone zone) => new(
        zone.Id,
        zone.Revision,
        zone.DeletedOn is null ? zone.Addresses.Select(a => a.Address).Order(StringComparer.Ordinal).ToList() : [],
        zone.DeletedOn is null && zone.HttpPortsClosed,
        null);
}
