using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure.Telemetry;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Agents;

/// <summary>
/// Keeps one row per data center with its agent's latest report: watermark, failures,
/// drift repairs, version. Idempotent: the upsert only moves forward in the agent's
/// time. Reports from unregistered DCs, or claiming revisions the log does not have
/// yet, are logged and dropped; nothing here throws for bad input. The report that first
/// moves a DC's watermark past revisions observes their propagation latency
/// (<c>controlplane.propagation.duration</c>), once per revision and DC.
/// </summary>
public sealed class AgentStatusReportedConsumer(
    ControlPlaneDbContext db,
    TimeProvider time,
    ApiMetrics metrics,
    ILogger<AgentStatusReportedConsumer> logger) : IConsumer<AgentStatusReported>
{
    public async Task Consume(ConsumeContext<AgentStatusReported> context)
    {
        var report = context.Message;
        var cancellationToken = context.CancellationToken;
        if (string.IsNullOrEmpty(report.DataCenter) || !await db.DataCenters.AnyAsync(d => d.Code == report.DataCenter, cancellationToken))
        {
            logger.LogWarning("Dropped a report from an unregistered data center");
            return;
        }

        var latest = (await db.RevisionSequencer.AsNoTracking().SingleAsync(cancellationToken)).LastRevision;
        if (report.Watermark > latest || report.Watermark < 0)
        {
            logger.LogWarning("Dropped a report from {DataCenter}: watermark {Watermark} is not in the log (latest {Latest})", report.DataCenter, report.Watermark, latest);
            return;
        }

        var version = Truncate(report.AgentVersion, 64);
        var reason = report.Reason is null ? null : Truncate(report.Reason, 1024);
        var failures = JsonSerializer.Serialize(report.FailedZones ?? [], WireJson.Options);
        var lastLoopError = report.LastLoopError is null ? null : Truncate(report.LastLoopError, 1024);
        var receivedAt = time.GetUtcNow();
        // The row lock makes one report, across all replicas, the first to reach each revision:
        // that report observes the revision's propagation latency, and no other does.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var before = await db.Database
            .SqlQuery<long>($"SELECT watermark AS \"Value\" FROM edge_agent_statuses WHERE data_center = {report.DataCenter} FOR UPDATE")
            .ToListAsync(cancellationToken);
        var written = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO edge_agent_statuses (data_center, agent_version, ready, reason, reported_at, received_at, watermark, failures, drift_repairs, loop_failures, last_loop_error)
            VALUES ({report.DataCenter}, {version}, {report.Ready}, {reason}, {report.ReportedAt}, {receivedAt}, {report.Watermark}, {failures}::jsonb, {report.DriftRepairs}, {report.LoopFailures}, {lastLoopError})
            ON CONFLICT (data_center) DO UPDATE
              SET agent_version = excluded.agent_version, ready = excluded.ready, reason = excluded.reason,
                  reported_at = excluded.reported_at, received_at = excluded.received_at, watermark = excluded.watermark,
                  failures = excluded.failures, drift_repairs = excluded.drift_repairs,
                  loop_failures = excluded.loop_failures, last_loop_error = excluded.last_loop_error
              WHERE edge_agent_statuses.reported_at < excluded.reported_at
            """, cancellationToken);
        // A DC's first report has nothing to compare with: its snapshot covers history it never waited for.
        var propagated = written == 1 && before is [var previous] && report.Watermark > previous
            ? await PropagationLatenciesAsync(previous, report.Watermark, receivedAt, cancellationToken)
            : [];
        await transaction.CommitAsync(cancellationToken);
        foreach (var latency in propagated)
        {
            for (var i = 0; i < latency.Revisions; i++)
            {
                metrics.Propagated(report.DataCenter, latency.Milliseconds / 1000.0);
            }
        }
    }

    /// <summary>How long the revisions in (<paramref name="after"/>, <paramref name="through"/>] took to arrive, grouped by whole milliseconds so a long gap costs one small result.</summary>
    private Task<List<PropagationLatency>> PropagationLatenciesAsync(long after, long through, DateTimeOffset receivedAt, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<PropagationLatency>($"""
            SELECT greatest(0, round(extract(epoch FROM ({receivedAt} - created_on)) * 1000))::bigint AS milliseconds, count(*) AS revisions
            FROM change_log WHERE revision > {after} AND revision <= {through}
            GROUP BY 1
            """).ToListAsync(cancellationToken);

    private sealed record PropagationLatency(long Milliseconds, long Revisions);

    private static string Truncate(string? value, int max) =>
        value is null ? "" : value.Length <= max ? value : value[..max];
}
