using EdgeAgent.Telemetry;

namespace EdgeAgent.Reporting;

/// <summary>
/// Failures of the agent's background loops (drift repair, sync, status and traffic reports):
/// each loop catches everything but shutdown, logs the exception and records it here, and the
/// status report carries the count and the latest one to the control plane.
/// </summary>
public sealed class LoopFailures(AgentMetrics metrics)
{
    private long count;
    private string? last;

    /// <summary>Failures since the agent started.</summary>
    public long Count => Interlocked.Read(ref count);

    /// <summary>The latest, as "loop: exception type: message" (for example "sync: NftException: …"); null when none.</summary>
    public string? Last => Volatile.Read(ref last);

    public void Record(string loop, Exception error)
    {
        Volatile.Write(ref last, $"{loop}: {error.GetType().Name}: {error.Message}");
        Interlocked.Increment(ref count);
        metrics.LoopFailed(loop);
    }
}
