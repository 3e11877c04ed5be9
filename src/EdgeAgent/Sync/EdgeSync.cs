using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
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
    EdgeApiClient api,
    ChangeFeed feed,
    AgentProgress progress,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
    ILogger<EdgeSync> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private readonly SortedDictionary<long, EdgeChangeRecorded> early = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ResyncAsync("start-up", stoppingToken);
        DateTimeOffset? gapSince = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            await WaitForChangesAsync(gapSince, stoppingToken);
            while (feed.Reader.TryRead(out var change))
            {
                if (change.Revision > progress.Watermark)
                {
                    early[change.Revision] = change;
                }
            }

            if (!await ApplyContiguousAsync(stoppingToken))
            {
                await ResyncAsync("an apply failed", stoppingToken);
            }

            if (early.Count == 0)
            {
                gapSince = null;
            }
            else if ((gapSince ??= time.GetUtcNow()) + options.Value.GapTimeout <= time.GetUtcNow())
            {
                await ResyncAsync($"revision {progress.Watermark + 1} is missing while {early.Keys.First()} is here", stoppingToken);
                gapSince = null;
            }
        }
    }

    private async Task WaitForChangesAsync(DateTimeOffset? gapSince, CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (gapSince is { } since)
        {
            wake.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(50, (since + options.Value.GapTimeout - time.GetUtcNow()).TotalMilliseconds)));
        }

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
        foreach (var stale in early.Keys.Where(r => r <= progress.Watermark).ToList())
        {
            early.Remove(stale);
        }

        var batch = new List<EdgeChangeRecorded>();
        for (var next = progress.Watermark + 1; early.Remove(next, out var change); next++)
        {
            batch.Add(change);
        }

        if (batch.Count == 0)
        {
            return true;
        }

        try
        {
            await dataplane.ApplyAsync(batch.SelectMany(c => c.Zones), cancellationToken);
            progress.Applied(batch[^1].Revision);
            return true;
        }
        // Anything but shutdown: the revisions stay buffered and the caller resyncs, so nothing
        // the kernel or a bug throws here stops the data center taking changes.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            failures.Record("sync", e);
            logger.LogError(e, "Applying revisions {From}-{To} failed", batch[0].Revision, batch[^1].Revision);
            return false;
        }
    }

    /// <summary>Fetches a snapshot and converges to it, retrying until it works.</summary>
    private async Task ResyncAsync(string why, CancellationToken stoppingToken)
    {
        logger.LogInformation("Resyncing from a snapshot: {Why}", why);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = await api.GetSnapshotAsync(stoppingToken);
                await dataplane.ConvergeAsync(snapshot.Zones, stoppingToken);
                foreach (var stale in early.Keys.Where(r => r <= snapshot.Revision).ToList())
                {
                    early.Remove(stale);
                }

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
