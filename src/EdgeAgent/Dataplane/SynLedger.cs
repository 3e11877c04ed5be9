namespace EdgeAgent.Dataplane;

/// <summary>
/// Turns the kernel's per-element SYN counters into per-zone counts, without ever reading a
/// counter on the change path. Pure bookkeeping: no kernel calls, unit-tested on its own.
/// </summary>
/// <remarks>
/// <para>
/// The counting elements (<see cref="SetRole.Attempted"/> and <see cref="SetRole.Blocked"/>)
/// stay in the kernel from a zone's creation until its deletion, and opening or closing a zone
/// touches only the uncounted <see cref="SetRole.Closed"/> set. So counters never restart on
/// open or close, and SYNs before a close are attempted and not blocked, SYNs after it blocked.
/// </para>
/// <para>
/// When a zone lets an address go, its counting elements are not deleted at once: they
/// <em>retire</em>, and stay until the next counter read has booked their last counts to the
/// zone that owned them; <see cref="TakeRetired"/> then hands them over for deletion. An address
/// taken again before that read keeps its elements and its counter, so nothing is lost when an
/// element is removed and added again. (If another zone takes it in that window, the counts since
/// the last read are booked to the new owner; the API quarantines freed addresses for 24 h, far
/// longer than a read interval.)
/// </para>
/// <para>
/// A reading lower than the last one means the element was re-created behind the agent's back
/// (a drift repair, a flush): its whole value is then new traffic.
/// </para>
/// </remarks>
public sealed class SynLedger
{
    private readonly Dictionary<(string Set, string Element), long> lastReading = [];
    private readonly Dictionary<(string Set, string Element), ElementChange> retiring = [];
    private readonly Dictionary<string, ZoneSynCounts> booked = new(StringComparer.Ordinal);

    /// <summary>Counting elements waiting for the next read before their deletion, with the zone they belonged to.</summary>
    public IEnumerable<ElementChange> Retiring => retiring.Values;

    /// <summary>
    /// The element changes to send for a change: everything except deletions from counting sets,
    /// which retire instead. Needs no counter read.
    /// </summary>
    public IReadOnlyList<ElementChange> Plan(IReadOnlyList<ElementChange> changes)
    {
        var send = new List<ElementChange>(changes.Count);
        foreach (var change in changes)
        {
            if (!change.Set.Counts)
            {
                send.Add(change);
            }
            else if (!change.Add)
            {
                retiring[(change.Set.Name, change.Element)] = change;
            }
            else if (!retiring.Remove((change.Set.Name, change.Element)))
            {
                // A new counting element starts at zero in the kernel.
                Forget(change.Set, change.Element);
                send.Add(change);
            }
            // else: taken again before the read; its element and counter are still in the kernel.
        }

        return send;
    }

    /// <summary>
    /// Books each counting element's growth since its last reading to the zone that owns it
    /// (<paramref name="ownerOf"/>, else the zone it is retiring from); elements nobody owns are
    /// foreign and ignored.
    /// </summary>
    public void Book(IEnumerable<CounterReading> readings, Func<string, string?> ownerOf)
    {
        foreach (var (set, element, packets) in readings)
        {
            var key = (set.Name, element);
            var last = lastReading.GetValueOrDefault(key);
            var delta = packets >= last ? packets - last : packets;
            lastReading[key] = packets;
            if (delta == 0 || (ownerOf(element) ?? retiring.GetValueOrDefault(key)?.ZoneId) is not { } zone)
            {
                continue;
            }

            var sum = booked.GetValueOrDefault(zone) ?? new ZoneSynCounts(0, 0);
            booked[zone] = (set.Role, set.IsV6) switch
            {
                (SetRole.Attempted, false) => sum with { V4 = sum.V4 + delta },
                (SetRole.Attempted, true) => sum with { V6 = sum.V6 + delta },
                (_, false) => sum with { BlockedV4 = sum.BlockedV4 + delta },
                (_, true) => sum with { BlockedV6 = sum.BlockedV6 + delta },
            };
        }
    }

    /// <summary>The deletions that retired, now that their last counts are booked: the caller sends them.</summary>
    public IReadOnlyList<ElementChange> TakeRetired()
    {
        var retired = retiring.Values.ToList();
        retiring.Clear();
        foreach (var change in retired)
        {
            Forget(change.Set, change.Element);
        }

        return retired;
    }

    /// <summary>An element the kernel no longer has (or is about to restart at zero): its next reading is all new.</summary>
    public void Forget(AddressSet set, string element) => lastReading.Remove((set.Name, element));

    /// <summary>The table is being created or rebuilt: every counter restarts at zero.</summary>
    public void ForgetAll()
    {
        lastReading.Clear();
        retiring.Clear();
    }

    /// <summary>Per-zone counts booked since the last call, then clears them; zones without traffic are left out.</summary>
    public IReadOnlyDictionary<string, ZoneSynCounts> TakeCounts()
    {
        var counts = new Dictionary<string, ZoneSynCounts>(booked, StringComparer.Ordinal);
        booked.Clear();
        return counts;
    }
}
