using EdgeAgent.Dataplane;
using EdgeAgent.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Reporting;

/// <summary>
/// Every <c>Agent:AnalyticsInterval</c>, reads the per-zone SYN counters and publishes the
/// interval's counts (<see cref="PendingTrafficReports"/> cuts them into messages with stable
/// ids). A publish counts once the broker confirmed it. One not confirmed within an interval
/// (broker away, connection lost, confirm lost) is given up and sent again, unchanged, at the
/// next tick, before any newer interval: a copy the broker already had carries the same report
/// id, so the API drops it.
/// </summary>
public sealed class TrafficReporter(
    IBus bus,
    IDataplane dataplane,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
    AgentMetrics metrics,
    ILogger<TrafficReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var agent = options.Value;
        var reports = new PendingTrafficReports(agent.DataCenter, time);
        using var timer = new PeriodicTimer(agent.AnalyticsInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var started = time.GetTimestamp();
                reports.Add(await dataplane.ReadCountersAsync(stoppingToken));
                metrics.CountersRead(time.GetElapsedTime(started).TotalSeconds);
                foreach (var report in reports.Due())
                {
                    // MassTransit resends on its own while the connection recovers; bounding the wait
                    // keeps the loop within its period and makes a stuck report a visible failure.
                    using var unconfirmed = new CancellationTokenSource(agent.AnalyticsInterval, time);
                    using var publish = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, unconfirmed.Token);
                    await bus.Publish(report, publish.Token);
                    reports.Confirmed(report.ReportId);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures.Record("traffic report", e);
                logger.LogWarning(e, "Could not report plaintext traffic; {Count} unconfirmed reports will be sent again unchanged, newer counts wait",
                    reports.Unconfirmed.Count);
            }
        }
    }
}
