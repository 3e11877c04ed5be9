using ControlPlane.Contracts;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The element sets one data center must hold, computed from zone edge states. Zones
/// whose addresses are invalid, or overlap an address another zone already holds, are
/// left out and listed in <see cref="Failures"/>; every other zone is still applied.
/// When two zones claim the same address, the one that claimed it first (lower
/// revision, then lower zone id) keeps it, so a new zone can never take traffic from
/// an existing one.
/// </summary>
public sealed class DesiredEdgeState
{
    private DesiredEdgeState(
        IReadOnlyDictionary<string, ZoneEdgeState> zones,
        IReadOnlyDictionary<string, string> failures,
        IReadOnlyDictionary<string, string> addressOwners,
        EdgeElements elements)
    {
        Zones = zones;
        Failures = failures;
        AddressOwners = addressOwners;
        Elements = elements;
    }

    public static DesiredEdgeState Empty { get; } = Build([], "");

    /// <summary>Zones applied, by zone id.</summary>
    public IReadOnlyDictionary<string, ZoneEdgeState> Zones { get; }

    /// <summary>Zones not applied, by zone id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Failures { get; }

    /// <summary>Zone id owning each watched element (canonical address text).</summary>
    public IReadOnlyDictionary<string, string> AddressOwners { get; }

    public EdgeElements Elements { get; }

    public static DesiredEdgeState Build(IEnumerable<ZoneEdgeState> zones, string dataCenter)
    {
        var accepted = new Dictionary<string, ZoneEdgeState>(StringComparer.Ordinal);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        var taken = new AddressIndex();
        var elements = new EdgeElements();

        // Each zone once, at its newest revision; then the oldest claims first.
        var latest = zones
            .GroupBy(z => z.ZoneId ?? "", StringComparer.Ordinal)
            .Select(g => g.MaxBy(z => z.Revision)!)
            .OrderBy(z => z.Revision)
            .ThenBy(z => z.ZoneId, StringComparer.Ordinal);
        foreach (var zone in latest)
        {
            var error = Validate(zone, taken, out var addresses);
            if (error is not null)
            {
                failures[zone.ZoneId] = error;
                continue;
            }

            accepted[zone.ZoneId] = zone;
            var closed = zone.HttpPortsClosed && (zone.EnforceIn is null || zone.EnforceIn.Contains(dataCenter, StringComparer.Ordinal));
            foreach (var address in addresses)
            {
                taken.Add(address, zone.ZoneId);
                owners[address.Text] = zone.ZoneId;
                elements.Watched(address.IsV6).Add(address.Text);
                if (closed)
                {
                    elements.Closed(address.IsV6).Add(address.Text);
                }
            }
        }

        return new DesiredEdgeState(accepted, failures, owners, elements);
    }

    /// <summary>The desired state with some zones replaced (or added); the rest unchanged.</summary>
    public DesiredEdgeState With(IEnumerable<ZoneEdgeState> changed, string dataCenter)
    {
        var merged = new Dictionary<string, ZoneEdgeState>(Zones, StringComparer.Ordinal);
        foreach (var zone in changed)
        {
            merged[zone.ZoneId] = zone;
        }

        return Build(merged.Values, dataCenter);
    }

    private static string? Validate(ZoneEdgeState zone, AddressIndex taken, out List<EdgeAddress> addresses)
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

            if (addresses.FirstOrDefault(a => a.Overlaps(address)) is { Text: not null } own)
            {
                return $"address {address} overlaps the zone's own address {own}";
            }

            if (taken.FindOverlap(address) is { } other)
            {
                return $"address {address} overlaps {other.Address} of zone {other.ZoneId}";
            }

            addresses.Add(address);
        }

        return null;
    }

    /// <summary>Non-overlapping ranges kept sorted, so an overlap check is a binary search.</summary>
    private sealed class AddressIndex
    {
        private readonly SortedDictionary<(bool IsV6, UInt128 First), (EdgeAddress Address, string ZoneId)> ranges = [];
        private readonly List<(EdgeAddress Address, string ZoneId)> wide = [];

        public void Add(EdgeAddress address, string zoneId)
        {
            ranges[(address.IsV6, address.First)] = (address, zoneId);
            // Prefixes wider than a host are rare; they are checked one by one.
            if (address.First != address.Last)
            {
                wide.Add((address, zoneId));
            }
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

            // A host-sized new address can only hit an existing host at the same point
            // (checked above) or a wide prefix (checked above). A wide new prefix may
            // cover existing hosts.
            if (address.First != address.Last)
            {
                foreach (var (key, entry) in ranges)
                {
                    if (key.IsV6 == address.IsV6 && entry.Address.Overlaps(address))
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
