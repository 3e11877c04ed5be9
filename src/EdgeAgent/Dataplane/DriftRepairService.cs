using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Re-reads the agent's table every drift period and repairs it when someone flushed a
/// set, deleted an element or removed the table. Idle until the dataplane has a desired
/// state: at start-up the kernel keeps enforcing whatever it had.
/// </summary>
public sealed class DriftRepairService(
    IDataplane dataplane,
    IOptions<NftablesOptions> options,
    TimeProvider time,
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
            catch (Exception e) when (e is NftException or DataplaneUnavailableException)
            {
                logger.LogError("Drift check failed: {Error}", e.Message);
            }
        }
    }
}
