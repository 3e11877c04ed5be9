namespace EdgeAgent.Sync;

/// <summary>What the agent has applied, shared by the sync loop and the status reporter.</summary>
public sealed class AgentProgress : IDisposable
{
    private readonly SemaphoreSlim reportNow = new(0, 1);
    private long watermark;

    /// <summary>The highest revision applied in order.</summary>
    public long Watermark => Interlocked.Read(ref watermark);

    /// <summary>Why the agent cannot sync right now; null when it can.</summary>
    public string? SyncProblem { get; set; }

    public void Applied(long revision)
    {
        Interlocked.Exchange(ref watermark, revision);
        RequestReport();
    }

    /// <summary>Asks the reporter to report at once instead of at the next heartbeat.</summary>
    public void RequestReport()
    {
        try
        {
            reportNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // A report is already due.
        }
    }

    /// <summary>
    /// Waits until a report is requested (true) or <paramref name="timeout"/> passes on
    /// <paramref name="time"/>'s clock (false), so a fake clock drives the heartbeat in tests.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<bool> WaitForReportRequestAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var expiry = new CancellationTokenSource(timeout, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
        try
        {
            await reportNow.WaitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => reportNow.Dispose();
}
