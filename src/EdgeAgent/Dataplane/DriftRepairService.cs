using System.Threading.Channels;
using EdgeAgent.Reporting;
using EdgeAgent.Telemetry;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Repairs the agent's table when someone flushed a set, deleted an element, added elements of
/// their own or removed the table. The check runs when the kernel announces a ruleset generation
/// written by another process (what <c>nft monitor</c> shows), and as a fallback every
/// <c>Agent:Nftables:DriftCheckInterval</c>, in case an event was missed. Idle until the dataplane
/// has a desired state: at start-up the kernel keeps enforcing whatever it had.
/// </summary>
public sealed class DriftRepairService(
    IDataplane dataplane,
    IOptions<NftablesOptions> options,
    TimeProvider time,
    LoopFailures failures,
    AgentMetrics metrics,
    ILogger<DriftRepairService> logger) : BackgroundService
{
    /// <summary>Foreign writes often come in runs (a script of nft calls): one check after the run settles.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan MaxMonitorBackoff = TimeSpan.FromSeconds(30);

    private readonly Channel<RulesetGeneration> foreign = Channel.CreateBounded<RulesetGeneration>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var monitor = WatchAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.DriftCheckInterval, time);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        while (!stoppingToken.IsCancellationRequested)
        {
            var signal = foreign.Reader.WaitToReadAsync(stoppingToken).AsTask();
            if (await Task.WhenAny(tick, signal) == tick)
            {
                if (!await tick)
                {
                    break;
                }

                tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                await CheckAsync("periodic check", stoppingToken);
            }
            else if (foreign.Reader.TryRead(out var generation))
            {
                await Task.Delay(Settle, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                while (foreign.Reader.TryRead(out var later))
                {
                    generation = later;
                }

                await CheckAsync($"generation {generation.Generation} written by process {generation.ProcessId} ({generation.Command})", stoppingToken);
            }
        }

        await monitor;
    }

    private async Task CheckAsync(string why, CancellationToken stoppingToken)
    {
        try
        {
            var started = time.GetTimestamp();
            var repaired = await dataplane.RepairDriftAsync(stoppingToken);
            metrics.DriftChecked(time.GetElapsedTime(started).TotalSeconds, repaired);
            if (repaired)
            {
                logger.LogWarning("Repaired drift in the nftables table after {Why} (repairs so far: {Repairs})", why, dataplane.DriftRepairs);
            }
        }
        // Anything but shutdown: a check that fails is tried again at the next signal or period (the
        // timer is the backoff), so nothing in the kernel can stop the repair loop.
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            failures.Record("drift repair", e);
            logger.LogError(e, "Drift check after {Why} failed; retrying within {Interval}", why, options.Value.DriftCheckInterval);
        }
    }

    /// <summary>Feeds foreign generations to the check; a monitor that fails or exits is restarted with backoff.</summary>
    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var generation in dataplane.WatchForeignChangesAsync(stoppingToken))
                {
                    foreign.Writer.TryWrite(generation);
                    backoff = TimeSpan.FromSeconds(1);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures.Record("drift monitor", e);
                logger.LogError(e, "The kernel monitor failed; the periodic drift check still runs; restarting the monitor in {Backoff}", backoff);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxMonitorBackoff.Ticks));
        }
    }
}
