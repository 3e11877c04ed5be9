using ControlPlane.Contracts;
using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using EdgeAgent.Sync;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeAgent.Tests;

/// <summary>
/// The real sync loop (DESIGN §4) against a fake snapshot source and a fake dataplane, on a fake
/// clock: converge to the snapshot, then apply revisions in order, a burst as one transaction, and
/// resync when a gap, a failed apply or a failed fetch says the kernel may be behind. Every wait
/// is for something the loop does (its next dataplane call, its next progress), never a sleep.
/// The lab tests drive the same loop against the real API and real nft.
/// </summary>
public sealed class EdgeSyncTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan GapTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>EdgeSync waits this long between snapshot attempts.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider time = new();
    private readonly FakeDataplane dataplane = new();
    private readonly FakeSnapshotSource snapshots = new(SnapshotAt(10, hosts: [1, 2]));
    private readonly ChangeFeed feed = new();
    private readonly AgentProgress progress = new();
    private readonly LoopFailures failures = new(TestMetrics.Agent());
    private readonly LogCapture logs = new();
    private readonly ILoggerFactory loggers;
    private readonly EdgeSync sync;

    public EdgeSyncTests()
    {
        loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var options = Options.Create(new AgentOptions { DataCenter = "tst", GapTimeout = GapTimeout });
        // The DC's queue is bound, as it is within a second of a start with the broker up; the
        // start-up tests below leave it unbound.
        feed.MarkQueueBound();
        sync = new EdgeSync(dataplane, snapshots, feed, progress, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<EdgeSync>());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => sync.StopAsync(CancellationToken.None);

    public void Dispose()
    {
        sync.Dispose();
        loggers.Dispose();
        logs.Dispose();
        progress.Dispose();
    }

    [Fact]
    public async Task AtStartUp_ConvergesToTheSnapshot_AndTakesItsRevisionAsTheWatermark()
    {
        await sync.StartAsync(CancellationToken.None);

        var converge = await dataplane.NextCallAsync();
        Assert.Equal(nameof(IDataplane.ConvergeAsync), converge.Method);
        Assert.Equal(snapshots.Snapshot.Zones, converge.Zones);
        await UntilWatermarkAsync(10);
        Assert.Null(progress.SyncProblem);
        Assert.Equal(0, failures.Count);
    }

    [Fact]
    public async Task RevisionsThatArriveTogether_ApplyInOrder_AsOneTransaction_AndStaleOnesAreDropped()
    {
        // What the DC's durable queue collected while the agent was away, in delivery order:
        // two revisions the snapshot (10) already holds, and 11-13 out of order.
        await FeedAsync(12, 9, 11, 13, 10);
        await sync.StartAsync(CancellationToken.None);

        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        var apply = await dataplane.NextCallAsync();
        Assert.Equal(nameof(IDataplane.ApplyAsync), apply.Method);
        Assert.Equal([11L, 12L, 13L], apply.Zones.Select(z => z.Revision));
        await UntilWatermarkAsync(13);
        Assert.Equal(1, snapshots.Calls);
    }

    [Fact]
    public async Task ARevisionAtOrBelowTheWatermark_IsDropped()
    {
        await sync.StartAsync(CancellationToken.None);
        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        await FeedAsync(11);
        Assert.Equal([11L], (await dataplane.NextCallAsync()).Zones.Select(z => z.Revision));
        await UntilWatermarkAsync(11);

        // A redelivery of 11 and a revision older than the snapshot, then the next one.
        await FeedAsync(11, 7);
        await FeedAsync(12);

        var next = await dataplane.NextCallAsync();
        Assert.Equal(nameof(IDataplane.ApplyAsync), next.Method);
        Assert.Equal([12L], next.Zones.Select(z => z.Revision));
        await UntilWatermarkAsync(12);
        Assert.Equal(1, snapshots.Calls);
    }

    [Fact]
    public async Task AGapThatOutlivesTheGapTimeout_FetchesANewSnapshot()
    {
        // Revision 11 never arrives.
        await FeedAsync(12);
        await sync.StartAsync(CancellationToken.None);
        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        snapshots.Snapshot = SnapshotAt(12, hosts: [1, 2, 11, 12]);

        var resync = await dataplane.AdvanceUntilNextCallAsync(time, GapTimeout);

        Assert.Equal(nameof(IDataplane.ConvergeAsync), resync.Method);
        Assert.Equal(snapshots.Snapshot.Zones, resync.Zones);
        Assert.Equal(2, snapshots.Calls);
        await UntilWatermarkAsync(12);

        // The snapshot held 12, so the buffered copy is gone and the loop goes on from 13.
        await FeedAsync(13);
        Assert.Equal([13L], (await dataplane.NextCallAsync()).Zones.Select(z => z.Revision));
    }

    [Fact]
    public async Task AnApplyThatThrows_IsRecordedAndLogged_AndTheLoopResyncsFromASnapshot()
    {
        dataplane.FailNext(nameof(IDataplane.ApplyAsync), new InvalidOperationException("a set element nobody expected"));
        await sync.StartAsync(CancellationToken.None);
        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        snapshots.Snapshot = SnapshotAt(11, hosts: [1, 2, 11]);

        await FeedAsync(11);

        Assert.Equal(nameof(IDataplane.ApplyAsync), (await dataplane.NextCallAsync()).Method);
        var resync = await dataplane.NextCallAsync();
        Assert.Equal(nameof(IDataplane.ConvergeAsync), resync.Method);
        Assert.Equal(snapshots.Snapshot.Zones, resync.Zones);
        Assert.Equal(2, snapshots.Calls);
        Assert.Equal(1, failures.Count);
        Assert.Equal("sync: InvalidOperationException: a set element nobody expected", failures.Last);
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal)
            && l.Contains("System.InvalidOperationException: a set element nobody expected", StringComparison.Ordinal));
        await UntilWatermarkAsync(11);
    }

    [Fact]
    public async Task ASnapshotSourceThatThrows_IsRetriedWhenTheClockMoves_AndTheFailureCounted()
    {
        snapshots.FailNext(new HttpRequestException("snapshot refused: 503"));
        await sync.StartAsync(CancellationToken.None);

        // The failure is reported at once; the retry waits for the clock.
        Assert.True(await progress.WaitForReportRequestAsync(Patience, TimeProvider.System, CancellationToken.None), "the failed fetch asked for no report");
        Assert.Equal("cannot sync: snapshot refused: 503", progress.SyncProblem);
        Assert.Equal(1, snapshots.Calls);

        var converge = await dataplane.AdvanceUntilNextCallAsync(time, RetryDelay);

        Assert.Equal(nameof(IDataplane.ConvergeAsync), converge.Method);
        Assert.Equal(2, snapshots.Calls);
        Assert.Equal(1, failures.Count);
        Assert.Equal("sync: HttpRequestException: snapshot refused: 503", failures.Last);
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
            && l.Contains("System.Net.Http.HttpRequestException: snapshot refused: 503", StringComparison.Ordinal));
        await UntilWatermarkAsync(10);
        Assert.Null(progress.SyncProblem);
    }

    [Fact]
    public async Task AtStartUp_TheSnapshotWaitsForTheQueueBinding()
    {
        using var unbound = NewSync(out var unboundFeed);
        await unbound.StartAsync(CancellationToken.None);
        Assert.Equal(0, snapshots.Calls);

        unboundFeed.MarkQueueBound();

        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        await UntilWatermarkAsync(10);
        Assert.Equal(1, snapshots.Calls);
        await unbound.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AQueueBoundOnlyAfterTheStartUpSnapshot_FetchesASecondOne_SoARevisionPublishedBeforeTheBindingIsNotLost()
    {
        using var unbound = NewSync(out var unboundFeed);
        await unbound.StartAsync(CancellationToken.None);

        // The broker is slow: the agent stops waiting after the gap timeout and converges anyway.
        var first = await dataplane.AdvanceUntilNextCallAsync(time, GapTimeout);
        Assert.Equal(nameof(IDataplane.ConvergeAsync), first.Method);
        await UntilWatermarkAsync(10);

        // Revision 11 was published before the queue was bound: it reached no queue, only the next snapshot.
        snapshots.Snapshot = SnapshotAt(11, hosts: [1, 2, 11]);
        unboundFeed.MarkQueueBound();

        var second = await dataplane.NextCallAsync();
        Assert.Equal(nameof(IDataplane.ConvergeAsync), second.Method);
        Assert.Equal(snapshots.Snapshot.Zones, second.Zones);
        await UntilWatermarkAsync(11);
        Assert.Equal(2, snapshots.Calls);
        await unbound.StopAsync(CancellationToken.None);
    }

    private EdgeSync NewSync(out ChangeFeed unboundFeed)
    {
        unboundFeed = new ChangeFeed();
        var options = Options.Create(new AgentOptions { DataCenter = "tst", GapTimeout = GapTimeout });
        return new EdgeSync(dataplane, snapshots, unboundFeed, progress, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<EdgeSync>());
    }

    /// <summary>A snapshot holding one zone per host number, each at the snapshot's revision.</summary>
    private static Snapshot SnapshotAt(long revision, int[] hosts) =>
        new(revision, hosts.Select(host => Zones.Zone(host, closed: true, revision)).ToList());

    /// <summary>Feeds one change per revision, each touching the zone whose host number is the revision.</summary>
    private async Task FeedAsync(params long[] revisions)
    {
        foreach (var revision in revisions)
        {
            var zone = Zones.Zone((int)revision, closed: true, revision);
            await feed.WriteAsync(new EdgeChangeRecorded(revision, [zone], DateTimeOffset.UnixEpoch), CancellationToken.None);
        }
    }

    /// <summary>Awaits the loop's progress reports until the watermark is <paramref name="revision"/>.</summary>
    private async Task UntilWatermarkAsync(long revision)
    {
        while (progress.Watermark != revision)
        {
            Assert.True(await progress.WaitForReportRequestAsync(Patience, TimeProvider.System, CancellationToken.None),
                $"the watermark stayed at {progress.Watermark}, expected {revision}");
        }
    }
}
