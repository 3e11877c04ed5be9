using ControlPlane.Contracts;

namespace EdgeAgent.Dataplane;

/// <summary>
/// One element to add to or delete from one set of the agent's table, with the zone
/// it belonged to (a deletion) or now belongs to (an addition).
/// </summary>
public sealed record ElementChange(string Set, string Element, bool Add, string ZoneId);

/// <summary>
/// The element sets one data center must hold, kept up to date zone by zone: applying
/// a change costs work in proportion to the zones it touches, not to the table.
/// </summary>
/// <remarks>
/// Zones whose addresses are invalid, or overlap an address another zone holds, are
/// left out and listed in <see cref="Failures"/>; every other zone is applied. The zone
/// already holding an address keeps it, so a bad new zone can never reopen or take
/// over an existing zone's address; within one batch (a snapshot, say) the lower
/// revision, then the lower zone id, claims first. A failed zone is retried whenever a
/// later change frees what it needs.
/// </remarks>
public sealed class DesiredEdgeState
{
    private readonly string dataCenter;
    private readonly Dictionary<string, ZoneEdgeState> zones = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ZoneEdgeState Zone, string Error)> failed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> owners = new(StringComparer.Ordinal);
    private readonly AddressIndex index = new();

    public DesiredEdgeState(string dataCenter) => this.dataCenter = dataCenter;

    /// <summary>Zones applied, by zone id.</summary>
    public IReadOnlyDictionary<string, ZoneEdgeState> Zones => zones;

    /// <summary>Zones not applied, by zone id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Failures => failed.ToDictionary(f => f.Key, f => f.Value.Error, StringComparer.Ordinal);

    /// <summary>Failed zones with the revision that failed, as agents report them.</summary>
    public IReadOnlyList<ZoneFailure> FailureDetails =>
        failed.Values.Select(f => new ZoneFailure(f.Zone.ZoneId, f.Zone.Revision, f.Error)).ToList();

    /// <summary>Zone id owning each watched element (canonical address text).</summary>
    public IReadOnlyDictionary<string, string> AddressOwners => owners;

    public EdgeElements Elements { get; } = new();

    public static DesiredEdgeState Build(IEnumerable<ZoneEdgeState> zones, string dataCenter)
    {
        var state = new DesiredEdgeState(dataCenter);
        state.Apply(zones);
        return state;
    }

    /// <summary>Replaces (or adds) the given zones and returns exactly the element changes that follow.</summary>
    public IReadOnlyList<ElementChange> Apply(IEnumerable<ZoneEdgeState> changed)
    {
        var before = new Dictionary<string, (bool Watched, bool Closed, string? Owner)>(StringComparer.Ordinal);
        var retry = failed.Values.Select(f => f.Zone).ToList();

        // Each zone once, at its newest revision; then the oldest claims first.
        var batch = changed
            .GroupBy(z => z.ZoneId ?? "", StringComparer.Ordinal)
            .Select(g => g.MaxBy(z => z.Revision)!)
            .OrderBy(z => z.Revision)
            .ThenBy(z => z.ZoneId, StringComparer.Ordinal)
            .ToList();
        foreach (var zone in batch)
        {
            if (zones.Remove(zone.ZoneId, out var old))
            {
                foreach (var address in Parsed(old))
                {
                    Remember(before, address.Text);
                    index.Remove(address);
                    owners.Remove(address.Text);
                    Elements.Watched(address.IsV6).Remove(address.Text);
                    Elements.Closed(address.IsV6).Remove(address.Text);
                }
            }

            failed.Remove(zone.ZoneId);
            TryAdd(zone, before);
        }

        // Zones that failed earlier may fit now that the batch freed addresses.
        var changedIds = batch.Select(z => z.ZoneId).ToHashSet(StringComparer.Ordinal);
        foreach (var zone in retry.Where(z => !changedIds.Contains(z.ZoneId)).OrderBy(z => z.Revision))
        {
            failed.Remove(zone.ZoneId);
            TryAdd(zone, before);
        }

        return Changes(before);
    }

    private void TryAdd(ZoneEdgeState zone, Dictionary<string, (bool Watched, bool Closed, string? Owner)> before)
    {
        var error = Validate(zone, out var addresses);
        if (error is not null)
        {
            failed[zone.ZoneId] = (zone, error);
            return;
        }

        zones[zone.ZoneId] = zone;
        var closed = zone.HttpPortsClosed && (zone.EnforceIn is null || zone.EnforceIn.Contains(dataCenter, StringComparer.Ordinal));
        foreach (var address in addresses)
        {
            Remember(before, address.Text);
            index.Add(address, zone.ZoneId);
            owners[address.Text] = zone.ZoneId;
            Elements.Watched(address.IsV6).Add(address.Text);
            if (closed)
            {
                Elements.Closed(address.IsV6).Add(address.Text);
            }
        }
    }

    private void Remember(Dictionary<string, (bool Watched, bool Closed, string? Owner)> before, string element)
    {
        if (!before.ContainsKey(element))
        {
            var v6 = element.Contains(':', StringComparison.Ordinal);
            before[element] = (Elements.Watched(v6).Contains(element), Elements.Closed(v6).Contains(element), owners.GetValueOrDefault(element));
        }
    }

    private List<ElementChange> Changes(Dictionary<string, (bool Watched, bool Closed, string? Owner)> before)
    {
        var changes = new List<ElementChange>();
        foreach (var (element, was) in before)
        {
            var v6 = element.Contains(':', StringComparison.Ordinal);
            var owner = owners.GetValueOrDefault(element);
            var watched = Elements.Watched(v6).Contains(element);
            var closed = Elements.Closed(v6).Contains(element);
            // An address moving between zones is removed and re-added, so its
            // counter (the old zone's traffic) is banked and restarts for the new one.
            var moved = was.Owner is not null && owner is not null && was.Owner != owner;
            Add(changes, EdgeElements.WatchedSet(v6), element, was.Watched, watched, moved, was.Owner, owner);
            Add(changes, EdgeElements.ClosedSet(v6), element, was.Closed, closed, false, was.Owner, owner);
        }

        return changes;
    }

    private static void Add(List<ElementChange> changes, string set, string element, bool was, bool now, bool moved, string? oldOwner, string? newOwner)
    {
        if (was && (!now || moved))
        {
            changes.Add(new ElementChange(set, element, Add: false, oldOwner!));
        }

        if (now && (!was || moved))
        {
            changes.Add(new ElementChange(set, element, Add: true, newOwner!));
        }
    }

    private static IEnumerable<EdgeAddress> Parsed(ZoneEdgeState zone)
    {
        foreach (var raw in zone.Addresses ?? [])
        {
            if (EdgeAddress.TryParse(raw, out var address, out _))
            {
                yield return address;
            }
        }
    }

    private string? Validate(ZoneEdgeState zone, out List<EdgeAddress> addresses)
    {
        addresses = [];
        if (string.IsNullOrWhiteSpace(zone.ZoneId))
        {
            return "the zone has no id";
        }

        foreach (var raw in zone.Addresses ?? [])
        {
            if (!EdgeAddress.TryParse(raw, out var address, out var error))
            {
                return error;
            }

            if (addresses.Contains(address))
            {
                // The same address twice says nothing new.
                continue;
            }

            if (addresses.FirstOrDefault(a => a.Overlaps(address)) is { Text: not null } own)
            {
                return $"address {address} overlaps the zone's own address {own}";
            }

            if (index.FindOverlap(address) is { } other)
            {
                return $"address {address} overlaps {other.Address} of zone {other.ZoneId}";
            }

            addresses.Add(address);
        }

        return null;
    }

    /// <summary>Non-overlapping ranges, keyed by their first address, so most checks are one lookup.</summary>
    private sealed class AddressIndex
    {
        private readonly Dictionary<(bool IsV6, UInt128 First), (EdgeAddress Address, string ZoneId)> ranges = [];
        private readonly List<(EdgeAddress Address, string ZoneId)> wide = [];

        public void Add(EdgeAddress address, string zoneId)
        {
            ranges[(address.IsV6, address.First)] = (address, zoneId);
            // Prefixes wider than one host are rare at an edge; they are checked one by one.
            if (address.First != address.Last)
            {
                wide.Add((address, zoneId));
            }
        }

        public void Remove(EdgeAddress address)
        {
            ranges.Remove((address.IsV6, address.First));
            wide.RemoveAll(w => w.Address == address);
        }

        public (EdgeAddress Address, string ZoneId)? FindOverlap(EdgeAddress address)
        {
            if (ranges.TryGetValue((address.IsV6, address.First), out var same))
            {
                return same;
            }

            foreach (var entry in wide)
            {
                if (entry.Address.Overlaps(address))
                {
                    return entry;
                }
            }

            // A single host can only meet a host at the same point or a wide prefix,
            // both checked above; a new wide prefix may cover existing hosts.
            if (address.First != address.Last)
            {
                foreach (var entry in ranges.Values)
                {
                    if (entry.Address.Overlaps(address))
                    {
                        return entry;
                    }
                }
            }

            return null;
        }
    }
}

/// <summary>The four address sets of the agent's table, as canonical element strings.</summary>
public sealed class EdgeElements
{
    public SortedSet<string> ClosedV4 { get; } = new(StringComparer.Ordinal);
    public SortedSet<string> ClosedV6 { get; } = new(StringComparer.Ordinal);
    public SortedSet<string> WatchedV4 { get; } = new(StringComparer.Ordinal);
    public SortedSet<string> WatchedV6 { get; } = new(StringComparer.Ordinal);

    public static string ClosedSet(bool v6) => v6 ? EdgeRuleset.ClosedV6 : EdgeRuleset.ClosedV4;

    public static string WatchedSet(bool v6) => v6 ? EdgeRuleset.WatchedV6 : EdgeRuleset.WatchedV4;

    public SortedSet<string> Closed(bool v6) => v6 ? ClosedV6 : ClosedV4;

    public SortedSet<string> Watched(bool v6) => v6 ? WatchedV6 : WatchedV4;

    /// <summary>Set name in the table → elements.</summary>
    public IEnumerable<(string Set, SortedSet<string> Elements)> BySet()
    {
        yield return (EdgeRuleset.ClosedV4, ClosedV4);
        yield return (EdgeRuleset.ClosedV6, ClosedV6);
        yield return (EdgeRuleset.WatchedV4, WatchedV4);
        yield return (EdgeRuleset.WatchedV6, WatchedV6);
    }
}
