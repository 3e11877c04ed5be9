using ControlPlane.Contracts;

namespace EdgeAgent.Sync;

/// <summary>
/// The in-order buffer of the sync loop (DESIGN §4), as pure logic: revisions at or below the
/// watermark are stale and dropped; later ones wait until every revision before them is here;
/// a gap that outlives <paramref name="gapTimeout"/> asks for a snapshot. Time comes from
/// <paramref name="time"/>, so tests drive it with a fake clock. Not thread-safe: one loop owns it.
/// </summary>
public sealed class RevisionBuffer(TimeProvider time, TimeSpan gapTimeout)
{
    private readonly SortedDictionary<long, EdgeChangeRecorded> early = [];
    private DateTimeOffset? gapSince;

    /// <summary>Revisions waiting for an earlier one.</summary>
    public int Count => early.Count;

    /// <summary>When the current gap runs out (a snapshot is due then); null when nothing waits.</summary>
    public DateTimeOffset? GapDeadline => gapSince + gapTimeout;

    /// <summary>Buffers a change; a stale one (at or below <paramref name="watermark"/>) is dropped.</summary>
    public void Add(EdgeChangeRecorded change, long watermark)
    {
        if (change.Revision > watermark)
        {
            early[change.Revision] = change;
        }
    }

    /// <summary>
    /// Removes and returns, in order, every buffered revision that follows <paramref name="watermark"/>
    /// without a gap (empty when the next one is missing); stale ones are dropped on the way.
    /// </summary>
    public List<EdgeChangeRecorded> TakeContiguous(long watermark)
    {
        DropThrough(watermark);
        var batch = new List<EdgeChangeRecorded>();
        for (var next = watermark + 1; early.Remove(next, out var change); next++)
        {
            batch.Add(change);
        }

        return batch;
    }

    /// <summary>Drops every revision a snapshot at <paramref name="revision"/> already holds.</summary>
    public void DropThrough(long revision)
    {
        foreach (var stale in early.Keys.Where(r => r <= revision).ToList())
        {
            early.Remove(stale);
        }
    }

    /// <summary>
    /// Called after each round: starts the gap timer when revisions wait, stops it when none do.
    /// Returns why a snapshot is needed when the gap has outlived the timeout (and restarts the
    /// timer), else null.
    /// </summary>
    public string? ExpiredGap(long watermark)
    {
        if (early.Count == 0)
        {
            gapSince = null;
            return null;
        }

        var now = time.GetUtcNow();
        if ((gapSince ??= now) + gapTimeout > now)
        {
            return null;
        }

        gapSince = null;
        return $"revision {watermark + 1} is missing while {early.Keys.First()} is here";
    }
}
