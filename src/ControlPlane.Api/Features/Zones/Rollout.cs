using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Features.Zones;

/// <summary>How long a data center may stay silent before it counts as stale (section <c>Status</c>).</summary>
public sealed class StatusOptions
{
    public const string Section = "Status";

    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// One DC's row of a rollout. <c>loop_failures</c> and <c>last_loop_error</c> are the DC agent's
/// background-loop failures since it started (retried each time), so a DC that stays pending can
/// say why.
/// </summary>
public sealed record DataCenterRollout(string DataCenter, string State, long Watermark, string? Error, DateTimeOffset? LastSeen, long LoopFailures = 0, string? LastLoopError = null);

public sealed record RolloutSummary(int Applied, int Pending, int Failed, int Stale, int Total);

public sealed record RolloutView(string ZoneId, string Setting, string Value, long Revision, RolloutSummary Summary, IReadOnlyList<DataCenterRollout> DataCenters);

/// <summary>
/// Where a zone's current edge state stands in every registered data center, derived
/// from one watermark per DC (DESIGN §5): <c>applied</c> when the watermark reaches the
/// zone's revision and no failure is recorded for it; <c>failed</c> when one is;
/// <c>stale</c> when the DC has been silent longer than <c>Status:StaleAfter</c>;
/// <c>pending</c> otherwise.
/// </summary>
public static class Rollout
{
    private const int MaxWaitSeconds = 60;

    public static RouteGroupBuilder MapRolloutApi(this RouteGroupBuilder client)
    {
        client.MapGet("/zones/{zone_id}/settings/disable_http_ports/rollout", GetRollout).WithTags("Zone settings").WithName("GetSettingRollout");
        return client;
    }

    /// <summary>The rollout; with <c>wait=N</c> (seconds, at most 60) it answers as soon as nothing is pending, or when the time is up.</summary>
    public static async Task<Results<Ok<ApiEnvelope<RolloutView>>, JsonHttpResult<ApiEnvelope<object>>>> GetRollout(
        [FromRoute(Name = "zone_id")] string zoneId, [FromQuery(Name = "wait")] int? wait, ControlPlaneDbContext db, Caller caller,
        TimeProvider time, IOptions<StatusOptions> options, CancellationToken cancellationToken)
    {
        if (wait is < 0 or > MaxWaitSeconds)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, $"wait must be between 0 and {MaxWaitSeconds} seconds");
        }

        var (zone, error) = await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.ZoneSettingsRead, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var deadline = time.GetUtcNow().AddSeconds(wait ?? 0);
        while (true)
        {
            var view = await ComputeAsync(db, zone!, time, options.Value, cancellationToken);
            if (view.Summary.Pending == 0 || time.GetUtcNow() >= deadline)
            {
                return ApiResults.Ok(view);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
    }

    public static async Task<RolloutView> ComputeAsync(ControlPlaneDbContext db, Zone zone, TimeProvider time, StatusOptions options, CancellationToken cancellationToken)
    {
        var dataCenters = await db.DataCenters.AsNoTracking().OrderBy(d => d.Code).Select(d => d.Code).ToListAsync(cancellationToken);
        var statuses = await db.EdgeAgentStatuses.AsNoTracking().ToDictionaryAsync(s => s.DataCenter, cancellationToken);
        var now = time.GetUtcNow();
        var rows = new List<DataCenterRollout>();
        foreach (var code in dataCenters)
        {
            if (!statuses.TryGetValue(code, out var status))
            {
                rows.Add(new DataCenterRollout(code, "stale", 0, "the agent has never reported", null));
                continue;
            }

            var failure = status.Failures.FirstOrDefault(f => f.ZoneId == zone.Id && f.Revision >= zone.Revision);
            var state = status.IsStale(now, options.StaleAfter) ? "stale"
                : failure is not null ? "failed"
                : status.Watermark >= zone.Revision ? "applied"
                : "pending";
            rows.Add(new DataCenterRollout(code, state, status.Watermark, failure?.Error, status.ReceivedAt, status.LoopFailures, status.LastLoopError));
        }

        var summary = new RolloutSummary(
            rows.Count(r => r.State == "applied"), rows.Count(r => r.State == "pending"),
            rows.Count(r => r.State == "failed"), rows.Count(r => r.State == "stale"), rows.Count);
        return new RolloutView(zone.Id, SettingView.DisableHttpPorts, zone.HttpPortsClosed ? "on" : "off", zone.Revision, summary, rows);
    }
}
