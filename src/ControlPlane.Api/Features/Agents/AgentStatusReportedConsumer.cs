using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Agents;

/// <summary>
/// Keeps one row per data center with its agent's latest report: watermark, failures,
/// drift repairs, version. Idempotent: the upsert only moves forward in the agent's
/// time. Reports from unregistered DCs, or claiming revisions the log does not have
/// yet, are logged and dropped; nothing here throws for bad input.
/// </summary>
public sealed class AgentStatusReportedConsumer(
    ControlPlaneDbContext db,
    TimeProvider time,
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
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO edge_agent_statuses (data_center, agent_version, ready, reason, reported_at, received_at, watermark, failures, drift_repairs, loop_failures, last_loop_error)
            VALUES ({report.DataCenter}, {version}, {report.Ready}, {reason}, {report.ReportedAt}, {receivedAt}, {report.Watermark}, {failures}::jsonb, {report.DriftRepairs}, {report.LoopFailures}, {lastLoopError})
            ON CONFLICT (data_center) DO UPDATE
              SET agent_version = excluded.agent_version, ready = excluded.ready, reason = excluded.reason,
                  reported_at = excluded.reported_at, received_at = excluded.received_at, watermark = excluded.watermark,
                  failures = excluded.failures, drift_repairs = excluded.drift_repairs,
                  loop_failures = excluded.loop_failures, last_loop_error = excluded.last_loop_error
              WHERE edge_agent_statuses.reported_at < excluded.reported_at
            """, cancellationToken);
    }

    private static string Truncate(string? value, int max) =>
        value is null ? "" : value.Length <= max ? value : value[..max];
}
