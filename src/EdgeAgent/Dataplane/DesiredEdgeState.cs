using ControlPlane.Contracts;

namespace EdgeAgent.Dataplane;

/// <summary>
/// One element to add to or delete from one set of the agent's table, with the zone
/// it belonged to (a deletion) or now belongs to (an addition).
/// </summary>
public sealed record ElementChange(AddressSet Set, string Element, bool Add, string ZoneId);

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
    private readonly TableLayout layout;
    private readonly Dictionary<string, ZoneEdgeState> zones = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ZoneEdgeState Zone, string Error)> failed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> owners = new(StringComparer.Ordinal);
    private readonly AddressIndex index = new();

    private static readonly SetRole[] Roles = [SetRole.Closed, SetRole.Attempted, SetRole.Blocked];

    /// <summary>An empty state for one data center, in the given table layout (<see cref="TableLayout.Default"/> when null).</summary>
    public DesiredEdgeState(string dataCenter, TableLayout? layout = null)
    {
        this.dataCenter = dataCenter;
        this.layout = layout ?? TableLayout.Default;
        Elements = new EdgeElements(this.layout);
    }

    /// <summary>Zones applied, by zone id.</summary>
    public IReadOnlyDictionary<string, ZoneEdgeState> Zones => zones;

    /// <summary>Zones not applied, by zone id, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Failures => failed.ToDictionary(f => f.Key, f => f.Value.Error, StringComparer.Ordinal);

    /// <summary>Failed zones with the revision that failed, as agents report them.</summary>
    public IReadOnlyList<ZoneFailure> FailureDetails =>
        failed.Values.Select(f => new ZoneFailure(f.Zone.ZoneId, f.Zone.Revision, f.Error)).ToList();

    /// <summary>Zone id owning each watched element (canonical address text).</summary>
    public IReadOnlyDictionary<string, string> AddressOwners => owners;

    /// <summary>What each set of the table must hold.</summary>
    public EdgeElements Elements { get; }

    public static DesiredEdgeState Build(IEnumerable<ZoneEdgeState> zones, string dataCenter, TableLayout? layout = null)
    {
        var state = new DesiredEdgeState(dataCenter, layout);
        state.Apply(zones);
        return state;
    }

    /// <summary>Replaces (or adds) the given zones and returns exactly the element changes that follow.</summary>
    public IReadOnlyList<ElementChange> Apply(IEnumerable<ZoneEdgeState> changed)
    {
        var before = new Dictionary<string, (EdgeAddress Address, HashSet<AddressSet> Sets, string? Owner)>(StringComparer.Ordinal);
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
                    Remember(before, address);
                    index.Remove(address);
                    owners.Remove(address.Text);
                    foreach (var role in Roles)
                    {
                        Elements[layout.SetFor(role, address)].Remove(address.Text);
                    }
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

    private void TryAdd(ZoneEdgeState zone, Dictionary<string, (EdgeAddress Address, HashSet<AddressSet> Sets, string? Owner)> before)
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
            Remember(before, address);
            index.Add(address, zone.ZoneId);
            owners[address.Text] = zone.ZoneId;
            Elements[layout.SetFor(SetRole.Attempted, address)].Add(address.Text);
            Elements[layout.SetFor(SetRole.Blocked, address)].Add(address.Text);
            if (closed)
            {
                Elements[layout.SetFor(SetRole.Closed, address)].Add(address.Text);
            }
        }
    }

    /// <summary>Notes, the first time a batch touches an address, which sets held it and which zone owned it.</summary>
    private void Remember(Dictionary<string, (EdgeAddress Address, HashSet<AddressSet> Sets, string? Owner)> before, EdgeAddress address)
    {
        if (!before.ContainsKey(address.Text))
        {
            var held = Roles.Select(role => layout.SetFor(role, address)).Where(set => Elements[set].Contains(address.Text)).ToHashSet();
            before[address.Text] = (address, held, owners.GetValueOrDefault(address.Text));
        }
    }

    /// <summary>
    /// Per touched address and set, an addition or a deletion where membership changed. An address
    /// that moves between zones keeps its elements: only the owner its counts are booked to changes.
    /// </summary>
    private List<ElementChange> Changes(Dictionary<string, (EdgeAddress Address, HashSet<AddressSet> Sets, string? Owner)> before)
    {
        var changes = new List<ElementChange>();
        foreach (var (element, was) in before)
        {
            var owner = owners.GetValueOrDefault(element);
            foreach (var set in Roles.Select(role => layout.SetFor(role, was.Address)))
            {
                var now = Elements[set].Contains(element);
                if (was.Sets.Contains(set) != now)
                {
                    changes.Add(new ElementChange(set, element, now, (now ? owner : was.Owner)!));
                }
            }
        }

        return changes;
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
