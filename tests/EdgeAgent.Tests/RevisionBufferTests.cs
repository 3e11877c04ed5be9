using ControlPlane.Contracts;
using EdgeAgent.Sync;
using Microsoft.Extensions.Time.Testing;

namespace EdgeAgent.Tests;

/// <summary>
/// The sync loop's in-order buffer as pure logic, on a fake clock: stale revisions dropped,
/// early ones held until the gap fills, and a gap that outlives the timeout asking for a
/// snapshot. The lab tests drive the same buffer through EdgeSync against real nft.
/// </summary>
public sealed class RevisionBufferTests
{
    private static readonly TimeSpan GapTimeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider time = new();

    private static EdgeChangeRecorded Change(long revision) => new(revision, [], DateTimeOffset.UnixEpoch);

    [Fact]
    public void StaleRevisions_AreDropped_AndContiguousOnesComeOutInOrder()
    {
        var buffer = new RevisionBuffer(time, GapTimeout);
        foreach (var revision in new long[] { 12, 9, 11, 10, 13 })
        {
            buffer.Add(Change(revision), watermark: 10);
        }

        Assert.Equal([11L, 12L, 13L], buffer.TakeContiguous(10).Select(c => c.Revision));
        Assert.Equal(0, buffer.Count);
    }

    [Fact]
    public void AnEarlyRevision_WaitsForTheMissingOne_ThenBothApplyAsOneBatch()
    {
        var buffer = new RevisionBuffer(time, GapTimeout);
        buffer.Add(Change(7), watermark: 5);

        Assert.Empty(buffer.TakeContiguous(5));
        Assert.Null(buffer.ExpiredGap(5));
        Assert.Equal(time.GetUtcNow() + GapTimeout, buffer.GapDeadline);

        buffer.Add(Change(6), watermark: 5);
        Assert.Equal([6L, 7L], buffer.TakeContiguous(5).Select(c => c.Revision));
        Assert.Null(buffer.ExpiredGap(7));
        Assert.Null(buffer.GapDeadline);
    }

    [Fact]
    public void AGapThatOutlivesTheTimeout_AsksForASnapshot_OnceAndNotBefore()
    {
        var buffer = new RevisionBuffer(time, GapTimeout);
        buffer.Add(Change(9), watermark: 5);
        Assert.Null(buffer.ExpiredGap(5));

        time.Advance(GapTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Null(buffer.ExpiredGap(5));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("revision 6 is missing while 9 is here", buffer.ExpiredGap(5));
        // The timer restarts: the next request comes a whole timeout later.
        Assert.Null(buffer.ExpiredGap(5));
    }

    [Fact]
    public void ASnapshot_DropsWhatItAlreadyHolds()
    {
        var buffer = new RevisionBuffer(time, GapTimeout);
        foreach (var revision in new long[] { 8, 9, 12 })
        {
            buffer.Add(Change(revision), watermark: 5);
        }

        buffer.DropThrough(10);

        Assert.Equal(1, buffer.Count);
        Assert.Empty(buffer.TakeContiguous(10));
        Assert.Equal([12L], buffer.TakeContiguous(11).Select(c => c.Revision));
    }
}
