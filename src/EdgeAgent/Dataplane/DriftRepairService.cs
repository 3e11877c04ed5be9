using EdgeAgent.Reporting;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Re-reads the agent's table every drift period and repairs it when someone flushed a
/// set, deleted an element, added elements of its own or removed the table. Idle until the dataplane has a desired
/// state: at start-up the kernel keeps enforcing whatever it had.
/// </summary>
public sealed class DriftRepairService(
    IDataplane dataplane,
    IOptions<NftablesOptions> options,
    TimeProvider time,
    LoopFailures failures,
    ILogger<DriftRepairService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DriftCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await dataplane.RepairDriftAsync(stoppingToken))
                {
                    logger.LogWarning("Repaired drift in the nftables table (repairs so far: {Repairs})", dataplane.DriftRepairs);
                }
            }
            // Anything but shutdown: a check that fails is tried again next period (the timer is
            // the backoff), so nothing in the kernel can stop the repair loop.
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures.Record("drift repair", e);
                logger.LogError(e, "Drift check failed; retrying in {Interval}", options.Value.DriftCheckInterval);
            }
        }
    }
}
