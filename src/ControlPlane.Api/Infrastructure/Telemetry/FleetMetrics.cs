using System.Diagnostics.Metrics;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Fleet;
using ControlPlane.Api.Features.Zones;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure.Telemetry;

/// <summary>
/// The change log's and every data center's state as gauges, exported only by the replica
/// that holds the dispatcher lock (<see cref="DispatchState.Active"/>), so that a sum over
/// replicas counts each DC once. That replica reads the fleet (the same reading as
/// <c>GET /operator/v1/data_centers/status</c>) every <c>Metrics:FleetRefreshInterval</c>;
/// the gauges report the latest reading, and the age of the last report is computed at
/// scrape time, so it grows between readings.
/// </summary>
public sealed class FleetMetrics : BackgroundService
{
    private static readonly string[] States = ["fresh", "stale", "never"];

    private readonly IServiceScopeFactory scopes;
    private readonly DispatchState dispatch;
    private readonly IOptions<MetricsOptions> options;
    private readonly IOptions<StatusOptions> status;
    private readonly TimeProvider time;
    private readonly ILogger<FleetMetrics> logger;
    private OperatorApi.FleetView? reading;

    public FleetMetrics(
        ApiMetrics metrics,
        IServiceScopeFactory scopes,
        DispatchState dispatch,
        IOptions<MetricsOptions> options,
        IOptions<StatusOptions> status,
        TimeProvider time,
        ILogger<FleetMetrics> logger)
    {
        this.scopes = scopes;
        this.dispatch = dispatch;
        this.options = options;
        this.status = status;
        this.time = time;
        this.logger = logger;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("controlplane.change_log.revision", () => Fleet(f =>
            [Tagged(f.LatestRevision, "state", "latest"), Tagged(f.PublishedRevision, "state", "published")]),
            "{revision}", "The change log's latest revision and the latest one published to the broker (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.dispatch.lag", () => Fleet(f => [new Measurement<long>(f.DispatchLag)]),
            "{revision}", "Revisions written but not yet published: latest minus published (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.data_center.watermark", () => PerDataCenter(dc => dc.Watermark),
            "{revision}", "The highest revision each DC reports applied in order (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.data_center.lag", () => PerDataCenter(dc => dc.Lag),
            "{revision}", "Revisions each DC is behind the latest (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.data_center.failed_zones", () => PerDataCenter(dc => dc.FailedZones),
            "{zone}", "Zones each DC's agent reports it could not apply (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.data_center.last_seen.age", LastSeenAges,
            "s", "Seconds since the API last received a report from each DC; absent for a DC never seen (dispatcher replica only).");
        meter.CreateObservableGauge("controlplane.data_center.state", StateMeasurements,
            "{data_center}", "1 for each DC's current state (fresh, stale, never), 0 for the others (dispatcher replica only).");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await LoopPolicy.RunAsync("Fleet metrics", async cancellationToken =>
        {
            using var timer = new PeriodicTimer(options.Value.FleetRefreshInterval, time);
            do
            {
                await RefreshAsync(cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }, time, logger, stoppingToken);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!dispatch.Active)
        {
            Volatile.Write(ref reading, null);
            return;
        }

        await using var scope = scopes.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<ControlPlaneDbContext>();
        Volatile.Write(ref reading, await OperatorApi.ReadFleetAsync(db, time.GetUtcNow(), status.Value.StaleAfter, cancellationToken));
    }

    /// <summary>The current reading, or nothing on a replica that does not dispatch.</summary>
    private IEnumerable<Measurement<long>> Fleet(Func<OperatorApi.FleetView, IEnumerable<Measurement<long>>> measure) =>
        dispatch.Active && Volatile.Read(ref reading) is { } fleet ? measure(fleet) : [];

    private IEnumerable<Measurement<long>> PerDataCenter(Func<OperatorApi.DataCenterStatusView, long> value) =>
        Fleet(f => f.DataCenters.Select(dc => Tagged(value(dc), "data_center", dc.Code)));

    private IEnumerable<Measurement<double>> LastSeenAges()
    {
        var now = time.GetUtcNow();
        return dispatch.Active && Volatile.Read(ref reading) is { } fleet
            ? fleet.DataCenters.Where(dc => dc.LastSeenOn is not null)
                .Select(dc => new Measurement<double>(Math.Max(0, (now - dc.LastSeenOn!.Value).TotalSeconds), new KeyValuePair<string, object?>("data_center", dc.Code)))
            : [];
    }

    private IEnumerable<Measurement<long>> StateMeasurements() =>
        Fleet(f => f.DataCenters.SelectMany(dc => States.Select(state => new Measurement<long>(dc.State == state ? 1 : 0,
            new KeyValuePair<string, object?>("data_center", dc.Code), new KeyValuePair<string, object?>("state", state)))));

    private static Measurement<long> Tagged(long value, string key, string tag) => new(value, new KeyValuePair<string, object?>(key, tag));
}
