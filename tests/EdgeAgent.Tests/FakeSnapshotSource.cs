using System.Collections.Concurrent;
using EdgeAgent.Sync;

namespace EdgeAgent.Tests;

/// <summary>
/// An <see cref="ISnapshotSource"/> that answers at once with <see cref="Snapshot"/>, or throws
/// the exceptions a test queued, one per call.
/// </summary>
internal sealed class FakeSnapshotSource(Snapshot snapshot) : ISnapshotSource
{
    private readonly ConcurrentQueue<Exception> faults = new();
    private int calls;

    /// <summary>What the next successful call returns; a test changes it to move the control plane on.</summary>
    public Snapshot Snapshot { get; set; } = snapshot;

    public int Calls => Volatile.Read(ref calls);

    public void FailNext(Exception error) => faults.Enqueue(error);

    public Task<Snapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref calls);
        return faults.TryDequeue(out var error) ? Task.FromException<Snapshot>(error) : Task.FromResult(Snapshot);
    }
}
