using EdgeAgent.Dataplane;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Reporting;

/// <summary>
/// Every <c>Agent:AnalyticsInterval</c>, reads the per-zone SYN counters and publishes the
/// interval's counts (<see cref="PendingTrafficReports"/> cuts them into messages with stable
/// ids). A publish returns once the broker confirmed the message; one that fails is sent again,
/// unchanged, at the next tick, before any newer interval.
/// </summary>
public sealed class TrafficReporter(
    IBus bus,
    IDataplane dataplane,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
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
                reports.Add(await dataplane.ReadCountersAsync(stoppingToken));
                foreach (var report in reports.Due())
                {
                    await bus.Publish(report, stoppingToken);
                    reports.Confirmed(report.ReportId);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures.Record("traffic report", e);
                logger.LogWarning(e, "Could not report plaintext traffic; {Count} unconfirmed reports will be sent again as they are, newer counts wait",
                    reports.Unconfirmed.Count);
            }
        }
    }
}
