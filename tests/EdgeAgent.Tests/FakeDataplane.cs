using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Time.Testing;

namespace EdgeAgent.Tests;

/// <summary>One call a loop made to the dataplane: the method's name and the zones it was given (empty when none).</summary>
internal sealed record DataplaneCall(string Method, IReadOnlyList<ZoneEdgeState> Zones);

/// <summary>
/// An <see cref="IDataplane"/> for unit tests of the agent's loops: it records every call in
/// order, so a test awaits the loop's next call instead of sleeping, and throws the exceptions a
/// test queued for a method, one per call, before it behaves again.
/// </summary>
internal sealed class FakeDataplane : IDataplane
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly Channel<DataplaneCall> calls = Channel.CreateUnbounded<DataplaneCall>();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Exception>> faults = new();

    public bool HasDesiredState => true;

    public IReadOnlyDictionary<string, string> Failures { get; } = new Dictionary<string, string>();

    public IReadOnlyList<ZoneFailure> FailedZones { get; } = [];

    public long DriftRepairs => 0;

    /// <summary>What <see cref="ReadCountersAsync"/> returns when it does not throw.</summary>
    public IReadOnlyDictionary<string, ZoneSynCounts> Counters { get; set; } = new Dictionary<string, ZoneSynCounts>();

    /// <summary>Makes the next call of <paramref name="method"/> (a name such as <c>nameof(IDataplane.ApplyAsync)</c>) throw <paramref name="error"/>.</summary>
    public void FailNext(string method, Exception error) => faults.GetOrAdd(method, _ => new()).Enqueue(error);

    /// <summary>The loop's next call; fails the test when none comes within a generous real-time limit.</summary>
    public async Task<DataplaneCall> NextCallAsync() =>
        await TryNextCallAsync(Patience) ?? throw new TimeoutException($"no dataplane call within {Patience}");

    /// <summary>The loop's next call, or null when none comes within <paramref name="within"/>.</summary>
    public async Task<DataplaneCall?> TryNextCallAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            return await calls.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Moves the fake clock <paramref name="step"/> at a time until the loop makes its next call. A
    /// BackgroundService runs ExecuteAsync on its own task, so the timer the loop waits on may not
    /// exist yet at the first step: advance and await, again, rather than sleep.
    /// </summary>
    public async Task<DataplaneCall> AdvanceUntilNextCallAsync(FakeTimeProvider time, TimeSpan step)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            time.Advance(step);
            if (await TryNextCallAsync(TimeSpan.FromMilliseconds(200)) is { } call)
            {
                return call;
            }
        }

        throw new TimeoutException($"no dataplane call after moving the clock 50 times by {step}");
    }

    public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken) =>
        Call(nameof(CheckAsync), [], DataplaneHealth.Healthy);

    public Task ConvergeAsync(IEnumerable<ZoneEdgeState> zones, CancellationToken cancellationToken) =>
        Call(nameof(ConvergeAsync), zones.ToList(), true);

    public Task ApplyAsync(IEnumerable<ZoneEdgeState> changed, CancellationToken cancellationToken) =>
        Call(nameof(ApplyAsync), changed.ToList(), true);

    public Task<bool> RepairDriftAsync(CancellationToken cancellationToken) =>
        Call(nameof(RepairDriftAsync), [], false);

    public Task<IReadOnlyDictionary<string, ZoneSynCounts>> ReadCountersAsync(CancellationToken cancellationToken) =>
        Call(nameof(ReadCountersAsync), [], Counters);

    public Task UninstallAsync(CancellationToken cancellationToken) =>
        Call(nameof(UninstallAsync), [], true);

    /// <summary>Foreign writes for <see cref="WatchForeignChangesAsync"/> to yield; a test writes them.</summary>
    public Channel<RulesetGeneration> ForeignWrites { get; } = Channel.CreateUnbounded<RulesetGeneration>();

    /// <summary>Released each time a watch starts (before a queued fault is thrown).</summary>
    public SemaphoreSlim WatchStarted { get; } = new(0);

    /// <summary>Not recorded as a call (it runs beside the loop's calls): it yields <see cref="ForeignWrites"/>.</summary>
    public async IAsyncEnumerable<RulesetGeneration> WatchForeignChangesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        WatchStarted.Release();
        if (faults.TryGetValue(nameof(WatchForeignChangesAsync), out var queued) && queued.TryDequeue(out var error))
        {
            throw error;
        }

        await foreach (var generation in ForeignWrites.Reader.ReadAllAsync(cancellationToken))
        {
            yield return generation;
        }
    }

    private Task<T> Call<T>(string method, IReadOnlyList<ZoneEdgeState> zones, T result)
    {
        calls.Writer.TryWrite(new DataplaneCall(method, zones));
        return faults.TryGetValue(method, out var queued) && queued.TryDequeue(out var error)
            ? Task.FromException<T>(error)
            : Task.FromResult(result);
    }
}
