using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Api.Infrastructure.Telemetry;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Api.Features.Analytics;

/// <summary>Retention of plaintext-traffic buckets (section <c>Analytics</c>).</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    public TimeSpan MinuteRetention { get; set; } = TimeSpan.FromDays(2);

    public TimeSpan HourRetention { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>
/// Counts a traffic report into the minute and hour buckets in one statement (one round
/// trip per batch, whatever its size): the report id is recorded first, and a report
/// seen before adds nothing. Reports from unregistered DCs are dropped.
/// </summary>
public sealed class PlaintextTrafficCountedConsumer(ControlPlaneDbContext db, TimeProvider time, ApiMetrics metrics, ILogger<PlaintextTrafficCountedConsumer> logger)
    : IConsumer<PlaintextTrafficCounted>
{
    public async Task Consume(ConsumeContext<PlaintextTrafficCounted> context)
    {
        var report = context.Message;
        if (report.Zones is not { Count: > 0 } zones || !await db.DataCenters.AnyAsync(d => d.Code == report.DataCenter, context.CancellationToken))
        {
            logger.LogWarning("Dropped an empty traffic report or one from an unregistered data center");
            metrics.TrafficReport("dropped");
            return;
        }

        var end = report.IntervalEnd.UtcDateTime;
        var minute = new DateTime(end.Year, end.Month, end.Day, end.Hour, end.Minute, 0, DateTimeKind.Utc);
        var hour = minute.AddMinutes(-minute.Minute);
        var parameters = new object[]
        {
            new NpgsqlParameter("id", report.ReportId),
            new NpgsqlParameter("dc", report.DataCenter),
            new NpgsqlParameter("now", time.GetUtcNow().UtcDateTime),
            new NpgsqlParameter("minute", minute),
            new NpgsqlParameter("hour", hour),
            new NpgsqlParameter("zones", zones.Select(z => z.ZoneId).ToArray()),
            new NpgsqlParameter("a4", zones.Select(z => z.AttemptedV4).ToArray()),
            new NpgsqlParameter("a6", zones.Select(z => z.AttemptedV6).ToArray()),
            new NpgsqlParameter("b4", zones.Select(z => z.BlockedV4).ToArray()),
            new NpgsqlParameter("b6", zones.Select(z => z.BlockedV6).ToArray()),
        };
        // The statement's count is the hour rows it wrote: none when the report id was seen before.
        if (await db.Database.ExecuteSqlRawAsync(IngestSql, parameters, context.CancellationToken) == 0)
        {
            logger.LogInformation("Traffic report {ReportId} from {DataCenter} was counted before; this copy added nothing", report.ReportId, report.DataCenter);
            metrics.TrafficReport("duplicate");
            return;
        }

        metrics.TrafficReport("counted", zones.Count);
    }

    /// <summary>Records the report id and, only if it is new, adds the counts to both bucket tables. Built once, from constants.</summary>
    private static readonly string IngestSql = $"""
        WITH fresh AS (
            INSERT INTO traffic_reports (report_id, data_center, received_on) VALUES (@id, @dc, @now)
            ON CONFLICT DO NOTHING RETURNING report_id),
        counts AS (
            SELECT t.* FROM unnest(@zones, @a4, @a6, @b4, @b6) AS t(zone_id, attempted_v4, attempted_v6, blocked_v4, blocked_v6)
            WHERE EXISTS (SELECT 1 FROM fresh)),
        minutes AS ({AddTo("traffic_minutes", "@minute")} RETURNING 1)
        {AddTo("traffic_hours", "@hour")}
        """;

    /// <summary>Adds the batch's counts to one bucket table (minutes or hours), creating rows as needed.</summary>
    private static string AddTo(string table, string bucket) => $"""
        INSERT INTO {table} (zone_id, data_center, start, attempted_v4, attempted_v6, blocked_v4, blocked_v6)
        SELECT zone_id, @dc, {bucket}, attempted_v4, attempted_v6, blocked_v4, blocked_v6 FROM counts
        ON CONFLICT (zone_id, data_center, start) DO UPDATE SET
            attempted_v4 = {table}.attempted_v4 + excluded.attempted_v4,
            attempted_v6 = {table}.attempted_v6 + excluded.attempted_v6,
            blocked_v4 = {table}.blocked_v4 + excluded.blocked_v4,
            blocked_v6 = {table}.blocked_v6 + excluded.blocked_v6
        """;
}

/// <summary>Drops traffic buckets (and remembered report ids) past their retention, every ten minutes.</summary>
public sealed class TrafficRetention(IServiceScopeFactory scopes, IOptions<AnalyticsOptions> options, TimeProvider time, ILogger<TrafficRetention> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(10);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        LoopPolicy.RunAsync("Traffic retention", DropExpiredThenWaitAsync, time, logger, stoppingToken);

    private async Task DropExpiredThenWaitAsync(CancellationToken stoppingToken)
    {
        await using (var scope = scopes.CreateSystemScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ControlPlaneDbContext>();
            var now = time.GetUtcNow().UtcDateTime;
            var minutes = now - options.Value.MinuteRetention;
            var hours = now - options.Value.HourRetention;
            await db.TrafficMinutes.Where(t => t.Start < minutes).ExecuteDeleteAsync(stoppingToken);
            await db.TrafficHours.Where(t => t.Start < hours).ExecuteDeleteAsync(stoppingToken);
            await db.TrafficReports.Where(r => r.ReceivedOn < minutes).ExecuteDeleteAsync(stoppingToken);
        }

        await Task.Delay(Period, time, stoppingToken);
    }
}
