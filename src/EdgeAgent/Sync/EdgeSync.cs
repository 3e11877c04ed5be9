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
        // Bind first, then snapshot: a revision published before the DC's queue was bound reached
        // no queue of this DC, so the snapshot must be taken after the binding to hold it. The
        // wait is bounded (a broker that is down must not keep the kernel from its snapshot); if
        // the queue is bound only later, a second snapshot then closes the window.
        var boundAtSnapshot = await WaitForQueueAsync(stoppingToken);
        await ResyncAsync("start_up", "start-up", stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            await WaitForChangesAsync(buffer.GapDeadline, boundAtSnapshot ? null : feed.QueueBound, stoppingToken);
            if (!boundAtSnapshot && feed.QueueBound.IsCompleted)
            {
                boundAtSnapshot = true;
                await ResyncAsync("queue_bound", "the change queue was bound after the start-up snapshot", stoppingToken);
            }

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

    /// <summary>Waits up to <c>Agent:GapTimeout</c> for the DC's queue to be bound; true when it is.</summary>
    private async Task<bool> WaitForQueueAsync(CancellationToken stoppingToken)
    {
        try
        {
            await feed.QueueBound.WaitAsync(options.Value.GapTimeout, time, stoppingToken);
            return true;
        }
        catch (TimeoutException)
        {
            logger.LogWarning("The change queue is not bound after {Timeout}; converging to a snapshot now and again once it is", options.Value.GapTimeout);
            return false;
        }
    }

    /// <summary>Returns when changes are readable, the gap deadline passes, or <paramref name="alsoWakeOn"/> completes.</summary>
    private async Task WaitForChangesAsync(DateTimeOffset? gapDeadline, Task? alsoWakeOn, CancellationToken stoppingToken)
    {
        // The gap timer runs on the injected clock, like the buffer that set the deadline, so a
        // fake clock in tests moves both together.
        using var gapTimer = gapDeadline is { } deadline
            ? new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(50, (deadline - time.GetUtcNow()).TotalMilliseconds)), time)
            : new CancellationTokenSource();
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, gapTimer.Token);
        var readable = feed.Reader.WaitToReadAsync(wake.Token).AsTask();
        try
        {
            await (alsoWakeOn is null ? readable : (Task)Task.WhenAny(readable, alsoWakeOn));
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The gap timer ran out; the caller decides.
        }
        finally
        {
            // Leave no reader waiting behind: the next round waits afresh.
            await wake.CancelAsync();
            await ((Task)readable).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
    /// resync's metric label (<c>start_up</c>, <c>queue_bound</c>, <c>apply_failed</c>, <c>gap_timeout</c>); <paramref name="why"/> is for the log.
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
