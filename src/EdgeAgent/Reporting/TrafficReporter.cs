using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Reporting;

/// <summary>
/// Every <c>Agent:AnalyticsInterval</c>, reads the per-zone SYN counters and publishes the
/// interval's counts in batches of at most <see cref="BatchSize"/> zones. Counts that
/// cannot be published (broker away) are kept and go out with the next interval.
/// </summary>
public sealed class TrafficReporter(
    IBus bus,
    IDataplane dataplane,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
    ILogger<TrafficReporter> logger) : BackgroundService
{
    public const int BatchSize = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var agent = options.Value;
        var pending = new Dictionary<string, ZoneSynCounts>(StringComparer.Ordinal);
        var intervalStart = time.GetUtcNow();
        using var timer = new PeriodicTimer(agent.AnalyticsInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var (zone, counts) in await dataplane.ReadCountersAsync(stoppingToken))
                {
                    var sum = pending.GetValueOrDefault(zone) ?? new ZoneSynCounts(0, 0);
                    pending[zone] = new ZoneSynCounts(sum.V4 + counts.V4, sum.V6 + counts.V6, sum.BlockedV4 + counts.BlockedV4, sum.BlockedV6 + counts.BlockedV6);
                }

                var intervalEnd = time.GetUtcNow();
                foreach (var batch in pending.Chunk(BatchSize))
                {
                    var zones = batch.Select(z => new ZoneTraffic(z.Key, z.Value.V4, z.Value.V6, z.Value.BlockedV4, z.Value.BlockedV6)).ToList();
                    await bus.Publish(new PlaintextTrafficCounted(Guid.NewGuid(), agent.DataCenter, intervalStart, intervalEnd, zones), stoppingToken);
                    foreach (var zone in batch)
                    {
                        pending.Remove(zone.Key);
                    }
                }

                intervalStart = intervalEnd;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures.Record("traffic report", e);
                logger.LogWarning(e, "Could not report plaintext traffic, keeping it for the next interval");
            }
        }
    }
}
