using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Zones;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Analytics;

/// <summary>
/// <c>GET /zones/{id}/analytics/plaintext_http</c>: plaintext HTTP connection attempts to
/// the zone, per time bucket and per DC, split into attempted and blocked, so customers can
/// see who would be cut off before they close the ports.
/// </summary>
public static class AnalyticsApi
{
    public const int MaxPoints = 1440;

    public sealed record Counts(long Attempted, long Blocked);

    public sealed record DataCenterCounts(string DataCenter, long Attempted, long Blocked);

    public sealed record Point(DateTime Time, long Attempted, long Blocked, IReadOnlyList<DataCenterCounts> DataCenters);

    public sealed record TrafficView(DateTime Since, DateTime Until, string Granularity, Counts Totals, IReadOnlyList<DataCenterCounts> DataCenters, IReadOnlyList<Point> Series);

    public static RouteGroupBuilder MapAnalyticsApi(this RouteGroupBuilder client)
    {
        client.MapGet("/zones/{zone_id}/analytics/plaintext_http", GetPlaintextTraffic).WithTags("Analytics").WithName("GetPlaintextHttpAnalytics");
        return client;
    }

    public static async Task<Results<Ok<ApiEnvelope<TrafficView>>, JsonHttpResult<ApiEnvelope<object>>>> GetPlaintextTraffic(
        [FromRoute(Name = "zone_id")] string zoneId, [FromQuery(Name = "since")] DateTime? since, [FromQuery(Name = "until")] DateTime? until,
        [FromQuery(Name = "granularity")] string? granularity, ControlPlaneDbContext db, Caller caller, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var step = granularity switch
        {
            null or "minute" => TimeSpan.FromMinutes(1),
            "hour" => TimeSpan.FromHours(1),
            _ => TimeSpan.Zero,
        };
        if (step == TimeSpan.Zero)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, "granularity must be 'minute' or 'hour'");
        }

        var to = until?.ToUniversalTime() ?? now;
        var from = since?.ToUniversalTime() ?? to - (step.TotalMinutes == 1 ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1));
        if (from >= to)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, "since must be before until");
        }

        if (to > now.AddMinutes(1))
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, "until is in the future");
        }

        var first = Floor(from, step);
        if ((to - first) / step > MaxPoints)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, $"the range holds more than {MaxPoints} points at this granularity; use 'hour' or a shorter range");
        }

        var (zone, error) = await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.AnalyticsRead, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        IQueryable<TrafficBucket> buckets = step.TotalMinutes == 1 ? db.TrafficMinutes : db.TrafficHours;
        var rows = await buckets.AsNoTracking().Where(b => b.ZoneId == zone!.Id && b.Start >= first && b.Start < to).ToListAsync(cancellationToken);
        // One pass to group the rows by bucket start, then one per point: a day of minute buckets in
        // three DCs is 4,320 rows over 1,440 points.
        var byStart = rows.ToLookup(r => r.Start);
        var series = new List<Point>();
        for (var t = first; t < to; t += step)
        {
            var at = byStart[t].Select(r => new DataCenterCounts(r.DataCenter, r.AttemptedV4 + r.AttemptedV6, r.BlockedV4 + r.BlockedV6)).ToList();
            series.Add(new Point(t, at.Sum(d => d.Attempted), at.Sum(d => d.Blocked), at));
        }

        var dataCenters = rows.GroupBy(r => r.DataCenter).OrderBy(g => g.Key)
            .Select(g => new DataCenterCounts(g.Key, g.Sum(r => r.AttemptedV4 + r.AttemptedV6), g.Sum(r => r.BlockedV4 + r.BlockedV6))).ToList();
        var totals = new Counts(dataCenters.Sum(d => d.Attempted), dataCenters.Sum(d => d.Blocked));
        return ApiResults.Ok(new TrafficView(first, to, step.TotalMinutes == 1 ? "minute" : "hour", totals, dataCenters, series));
    }

    /// <summary>Plaintext connection attempts to the zone over the last 24 hours, in every DC.</summary>
    public static async Task<long> Last24HoursAsync(ControlPlaneDbContext db, string zoneId, DateTime now, CancellationToken cancellationToken)
    {
        var since = now.AddHours(-24);
        return await db.TrafficMinutes.Where(t => t.ZoneId == zoneId && t.Start >= since).SumAsync(t => t.AttemptedV4 + t.AttemptedV6, cancellationToken);
    }

    private static DateTime Floor(DateTime value, TimeSpan step) => new(value.Ticks - (value.Ticks % step.Ticks), DateTimeKind.Utc);
}
