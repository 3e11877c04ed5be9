using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Api.Infrastructure;

/// <summary>What <see cref="UnitOfWork.CommitAsync"/> did.</summary>
/// <param name="Revision">The change-log revision the commit took (a dense <c>long</c>); null when nothing an edge enforces changed.</param>
/// <param name="ViolatedConstraint">The unique constraint the write ran into (nothing was written); null when it committed.</param>
public sealed record CommitResult(long? Revision, string? ViolatedConstraint)
{
    public bool Committed => ViolatedConstraint is null;
}

/// <summary>
/// The one way a request writes (DESIGN §3). The transaction opens at first use
/// (<see cref="BeginAsync"/>: the address allocator's <c>FOR UPDATE SKIP LOCKED</c> and the
/// pool lock run inside it); the handler mutates entities and records its audit entry, then
/// ends with <see cref="CommitAsync"/>, the only commit, after which nothing runs. The commit
/// saves, translates a unique violation into a <see cref="CommitResult"/>, and, when the
/// change tracker shows a change an edge enforces (a zone added, closed or opened, deleted,
/// or given addresses), takes the next revision and writes the change-log row in one
/// statement, last, so the sequencer's row lock is held only from there to the commit.
/// Revisions stay global, dense, gap-free (a rollback gives the number back) and in commit
/// order. A write that fails is audited by <see cref="RecordFailureAsync"/>.
/// </summary>
public sealed class UnitOfWork(ControlPlaneDbContext db, Caller caller, TimeProvider time, IHttpContextAccessor http, IOptions<JsonOptions> httpJson)
{
    /// <summary>
    /// Takes the next revision, stamps it on the zones and on their edge states, appends the
    /// change-log row and notifies the dispatchers (delivered at commit): one round trip.
    /// </summary>
    private const string AppendSql = """
        WITH next AS (
            UPDATE revision_sequencer SET last_revision = last_revision + 1 WHERE id = 1 RETURNING last_revision),
        stamped AS (
            UPDATE zones SET revision = next.last_revision FROM next WHERE zones.id = ANY(@ids)),
        logged AS (
            INSERT INTO change_log (revision, created_on, zones)
            SELECT next.last_revision, @now,
                   (SELECT jsonb_agg(jsonb_set(zone, ARRAY['revision'], to_jsonb(next.last_revision))) FROM jsonb_array_elements(@zones::jsonb) AS zone)
            FROM next)
        SELECT next.last_revision AS "Value" FROM next, LATERAL (SELECT pg_notify(@channel, next.last_revision::text)) AS notified
        """;

    private IDbContextTransaction? transaction;

    /// <summary>Opens the transaction unless it is open. Idempotent.</summary>
    public async Task BeginAsync(CancellationToken cancellationToken)
    {
        transaction ??= db.Database.CurrentTransaction ?? await db.Database.BeginTransactionAsync(cancellationToken);
    }

    /// <summary>
    /// Saves, appends the change-log row when an edge must change, and commits. A unique
    /// violation rolls everything back and comes back as <see cref="CommitResult.ViolatedConstraint"/>;
    /// any other failure throws (after the rollback).
    /// </summary>
    public async Task<CommitResult> CommitAsync(CancellationToken cancellationToken)
    {
        await BeginAsync(cancellationToken);
        db.ChangeTracker.DetectChanges();
        var zones = ZonesAnEdgeMustChange();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            long? revision = zones.Count == 0 ? null : await AppendAsync(zones, cancellationToken);
            await transaction!.CommitAsync(cancellationToken);
            foreach (var zone in zones)
            {
                // Written by the append statement; the tracked copy follows without another save.
                db.Entry(zone).Property(z => z.Revision).OriginalValue = revision!.Value;
                zone.Revision = revision.Value;
            }

            return new CommitResult(revision, null);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } unique)
        {
            await RollbackAsync();
            return new CommitResult(null, unique.ConstraintName);
        }
        catch
        {
            await RollbackAsync();
            throw;
        }
        finally
        {
            await DisposeTransactionAsync();
        }
    }

    /// <summary>
    /// Audits a write that failed (<c>action.result: false</c>): rolls back whatever the
    /// request started, forgets its tracked changes, and saves only the audit entry, in a
    /// short transaction of its own. <paramref name="metadata"/> carries the status and error.
    /// </summary>
    public async Task RecordFailureAsync(string action, string resourceType, string? resourceId, object metadata, CancellationToken cancellationToken)
    {
        await RollbackAsync();
        await DisposeTransactionAsync();
        db.ChangeTracker.Clear();
        db.AuditLogs.Add(new AuditLogEntry
        {
            Id = Ids.New(),
            AccountId = caller.Token?.AccountId,
            ActionType = action,
            ActionResult = false,
            ActorType = caller.IsOperator ? "operator" : "token",
            ActorId = caller.IsOperator ? "operator" : caller.Token?.Id,
            TokenId = caller.Token?.Id,
            ActorIp = ClientAddress.Of(http.HttpContext),
            ResourceType = resourceType,
            ResourceId = resourceId,
            Interface = Audit.InterfaceOf(http.HttpContext),
            // Audit values are shown through the HTTP API, so they take its form.
            Metadata = JsonSerializer.SerializeToDocument(metadata, httpJson.Value.SerializerOptions),
            When = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The zones whose edge state this unit of work changes, from the change tracker: added
    /// zones, zones whose <c>disable_http_ports</c> or deletion changed, and zones that gained
    /// or lost an address. So a new edge-changing write cannot forget the change log.
    /// </summary>
    private List<Zone> ZonesAnEdgeMustChange()
    {
        var zones = new HashSet<Zone>(ReferenceEqualityComparer.Instance);
        foreach (var entry in db.ChangeTracker.Entries<Zone>())
        {
            if (entry.State == EntityState.Added
                || (entry.State == EntityState.Modified && (IsModified(entry, nameof(Zone.HttpPortsClosed)) || IsModified(entry, nameof(Zone.DeletedOn)))))
            {
                zones.Add(entry.Entity);
            }
        }

        foreach (var entry in db.ChangeTracker.Entries<EdgeAddressAllocation>())
        {
            if (entry.State == EntityState.Added || (entry.State == EntityState.Modified && IsModified(entry, nameof(EdgeAddressAllocation.ZoneId))))
            {
                foreach (var zoneId in new[] { entry.Entity.ZoneId, entry.Property(a => a.ZoneId).OriginalValue }.OfType<string>())
                {
                    zones.Add(db.ChangeTracker.Entries<Zone>().SingleOrDefault(z => z.Entity.Id == zoneId)?.Entity
                        ?? throw new InvalidOperationException($"Address {entry.Entity.Address} moved to or from zone {zoneId}, which this unit of work does not track: load the zone first."));
                }
            }
        }

        return zones.OrderBy(z => z.Id, StringComparer.Ordinal).ToList();
    }

    private static bool IsModified<T>(EntityEntry<T> entry, string property)
        where T : class =>
        entry.Property(property).IsModified;

    private async Task<long> AppendAsync(List<Zone> zones, CancellationToken cancellationToken)
    {
        var states = JsonSerializer.Serialize(zones.Select(ChangeLog.EdgeState).ToList(), WireJson.Options);
        var ids = zones.Select(z => z.Id).ToArray();
        var revisions = await db.Database.SqlQueryRaw<long>(AppendSql,
                new NpgsqlParameter("ids", ids),
                new NpgsqlParameter("now", time.GetUtcNow().UtcDateTime),
                new NpgsqlParameter("zones", states),
                new NpgsqlParameter("channel", ChangeDispatcher.Channel))
            .ToListAsync(cancellationToken);
        return revisions.Single();
    }

    private async Task RollbackAsync()
    {
        if (transaction is not null)
        {
            try
            {
                await transaction.RollbackAsync();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection or transaction is already gone: nothing to roll back.
            }
        }
    }

    private async Task DisposeTransactionAsync()
    {
        if (transaction is not null)
        {
            await transaction.DisposeAsync();
            transaction = null;
        }
    }
}
