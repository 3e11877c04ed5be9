using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using EdgeAgent.Telemetry;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Sync;

/// <summary>
/// Keeps the kernel at the control plane's state (DESIGN §4): converge to a snapshot,
/// then apply revisions R+1, R+2, … strictly in order. Stale revisions are dropped,
/// early ones buffered; a gap that outlives <c>Agent:GapTimeout</c> triggers a fresh
/// snapshot. Everything that is ready to apply at once goes to the kernel as one
/// transaction. Until the first snapshot the kernel is left as it is.
/// </summary>
public sealed class EdgeSync(
    IDataplane dataplane,
    ISnapshotSource snapshots,
    ChangeFeed feed,
    AgentProgress progress,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
    AgentMetrics metrics,
    ILogger<EdgeSync> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private readonly RevisionBuffer buffer = new(time, options.Value.GapTimeout);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ResyncAsync("start_up", "start-up", stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            await WaitForChangesAsync(buffer.GapDeadline, stoppingToken);
            while (feed.Reader.TryRead(out var change))
            {
                buffer.Add(change, progress.Watermark);
            }

            if (!await ApplyContiguousAsync(stoppingToken))
            {
                await ResyncAsync("apply_failed", "an apply failed", stoppingToken);
            }

            if (buffer.ExpiredGap(progress.Watermark) is { } gap)
            {
                await ResyncAsync("gap_timeout", gap, stoppingToken);
            }
        }
    }

    private async Task WaitForChangesAsync(DateTimeOffset? gapDeadline, CancellationToken stoppingToken)
    {
        // The gap timer runs on the injected clock, like the buffer that set the deadline, so a
        // fake clock in tests moves both together.
        using var gapTimer = gapDeadline is { } deadline
            ? new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(50, (deadline - time.GetUtcNow()).TotalMilliseconds)), time)
            : new CancellationTokenSource();
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, gapTimer.Token);
        try
        {
            await feed.Reader.WaitToReadAsync(wake.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The gap timer ran out; the caller decides.
        }
    }

    /// <summary>Applies every buffered revision that follows the watermark, as one batch; false when the kernel refused.</summary>
    private async Task<bool> ApplyContiguousAsync(CancellationToken cancellationToken)
    {
        var batch = buffer.TakeContiguous(progress.Watermark);
        if (batch.Count == 0)
        {
            return true;
        }

        try
        {
            var started = time.GetTimestamp();
            await dataplane.ApplyAsync(batch.SelectMany(c => c.Zones), cancellationToken);
            metrics.Applied(batch.Count, time.GetElapsedTime(started).TotalSeconds);
            progress.Applied(batch[^1].Revision);
            return true;
        }
        // Anything but shutdown: the batch is dropped and the caller resyncs (the snapshot holds
        // those revisions), so nothing the kernel or a bug throws here stops the data center
        // taking changes.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            failures.Record("sync", e);
            logger.LogError(e, "Applying revisions {From}-{To} failed", batch[0].Revision, batch[^1].Revision);
            return false;
        }
    }

    /// <summary>
    /// Fetches a snapshot and converges to it, retrying until it works. <paramref name="reason"/> is the
    /// resync's metric label (<c>start_up</c>, <c>apply_failed</c>, <c>gap_timeout</c>); <paramref name="why"/> is for the log.
    /// </summary>
    private async Task ResyncAsync(string reason, string why, CancellationToken stoppingToken)
    {
        metrics.Resync(reason);
        logger.LogInformation("Resyncing from a snapshot: {Why}", why);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = await snapshots.GetSnapshotAsync(stoppingToken);
                await dataplane.ConvergeAsync(snapshot.Zones, stoppingToken);
                buffer.DropThrough(snapshot.Revision);

                progress.SyncProblem = null;
                progress.Applied(snapshot.Revision);
                logger.LogInformation("Converged to snapshot revision {Revision} ({Zones} zones)", snapshot.Revision, snapshot.Zones.Count);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures.Record("sync", e);
                progress.SyncProblem = $"cannot sync: {e.Message}";
                progress.RequestReport();
                logger.LogWarning(e, "Snapshot sync failed, retrying in {Delay}", RetryDelay);
                await Task.Delay(RetryDelay, time, stoppingToken);
            }
        }
    }
}
