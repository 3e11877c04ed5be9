using System.Text.RegularExpressions;
using ControlPlane.Api.Data;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Agents;

/// <summary>
/// Keeps one row per data center with the agent's latest report. The upsert only
/// moves forward in the agent's time, so a redelivered or reordered report is harmless.
/// </summary>
public sealed partial class AgentStatusReportedConsumer(
    ControlPlaneDbContext db,
    TimeProvider time,
    ILogger<AgentStatusReportedConsumer> logger) : IConsumer<AgentStatusReported>
{
    public async Task Consume(ConsumeContext<AgentStatusReported> context)
    {
        var report = context.Message;
        if (!DataCenterCode().IsMatch(report.DataCenter ?? ""))
        {
            logger.LogWarning("Dropped an agent report with an invalid data-center code");
            return;
        }

        var version = Truncate(report.AgentVersion, 64);
        var reason = report.Reason is null ? null : Truncate(report.Reason, 1024);
        var receivedAt = time.GetUtcNow();
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO edge_agent_statuses (data_center, agent_version, ready, reason, reported_at, received_at)
            VALUES ({report.DataCenter}, {version}, {report.Ready}, {reason}, {report.ReportedAt}, {receivedAt})
            ON CONFLICT (data_center) DO UPDATE
              SET agent_version = excluded.agent_version, ready = excluded.ready, reason = excluded.reason,
                  reported_at = excluded.reported_at, received_at = excluded.received_at
              WHERE edge_agent_statuses.reported_at < excluded.reported_at
            """, context.CancellationToken);
    }

    private static string Truncate(string? value, int max) =>
        value is null ? "" : value.Length <= max ? value : value[..max];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,15}$")]
    private static partial Regex DataCenterCode();
}
