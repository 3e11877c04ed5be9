namespace EdgeAgent.Dataplane;

/// <summary>What one address set of the agent's table is for.</summary>
public enum SetRole
{
    /// <summary>
    /// Addresses whose plaintext ports are refused (TCP RST; ICMP port unreachable for UDP). No
    /// counters: opening and closing a zone adds and deletes only these elements.
    /// </summary>
    Closed,

    /// <summary>
    /// Every address of every applied zone, with a per-element counter of SYNs to its plaintext
    /// ports: the attempted count. The element stays from the zone's creation until its deletion
    /// (and then until the next counter read), so open and close never reset it.
    /// </summary>
    Attempted,

    /// <summary>
    /// The same addresses as <see cref="Attempted"/>, with a per-element counter of the SYNs that
    /// arrived while the address was in the matching <see cref="Closed"/> set: the blocked count.
    /// It lives beside the closed element rather than on it, so deleting the closed element
    /// (opening the zone) loses nothing.
    /// </summary>
    Blocked,
}

/// <summary>
/// One address set of the table: its nftables name, its role, its element type
/// (<c>ipv4_addr</c> or <c>ipv6_addr</c>) and its shape. A plain hash set holds single
/// addresses; a set with <c>flags interval</c> holds prefixes.
/// </summary>
/// <remarks>
/// The shape is the cost: nft 1.0.6 loads every element of every interval set into its cache on
/// each invocation, so one change to a 100k-element interval set takes about a second, and the
/// same change to a hash set a few milliseconds (figures in <c>docs/dataplane.md</c>). Exact
/// addresses, which is every zone the API allocates, therefore go in hash sets, and the interval
/// sets hold only the rare zone that really has a prefix.
/// </remarks>
public sealed record AddressSet(string Name, SetRole Role, bool IsV6, bool Interval)
{
    /// <summary>The nftables element type: <c>ipv4_addr</c> or <c>ipv6_addr</c>.</summary>
    public string ElementType => IsV6 ? "ipv6_addr" : "ipv4_addr";

    /// <summary>True when each element carries a packet counter.</summary>
    public bool Counts => Role != SetRole.Closed;

    /// <summary>The nft expression that matches a packet's destination against this set's family.</summary>
    public string DestinationMatch => IsV6 ? "ip6 daddr" : "ip daddr";
}

/// <summary>
/// The one description of the agent's table: its address sets and, derived from them, its rules.
/// Creating the table, diffing it, writing changes and parsing the kernel's listing all iterate
/// this description, so a set added here is handled everywhere.
/// </summary>
public sealed class TableLayout
{
    /// <summary>The set of plaintext ports (<c>inet_service</c>) every rule matches.</summary>
    public const string Ports = "plaintext_ports";

    private const string SynOnly = "tcp flags & (fin|syn|rst|ack) == syn";

    private readonly Dictionary<string, AddressSet> byName;

    /// <summary>A layout of the given address sets.</summary>
    /// <exception cref="ArgumentException">Two sets share a name, or a closed set has no blocked set of its family and shape to count into.</exception>
    public TableLayout(IReadOnlyList<AddressSet> sets)
    {
        Sets = sets;
        byName = sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        Rules = BuildRules();
    }

    /// <summary>
    /// The agent's layout: for IPv4 and IPv6, a closed, an attempted and a blocked set of single
    /// addresses (hash sets), and the same three for prefixes (interval sets).
    /// </summary>
    public static TableLayout Default { get; } = new(
    [
        new("closed_v4", SetRole.Closed, IsV6: false, Interval: false),
        new("closed_v6", SetRole.Closed, IsV6: true, Interval: false),
        new("closed_v4_net", SetRole.Closed, IsV6: false, Interval: true),
        new("closed_v6_net", SetRole.Closed, IsV6: true, Interval: true),
        new("attempted_v4", SetRole.Attempted, IsV6: false, Interval: false),
        new("attempted_v6", SetRole.Attempted, IsV6: true, Interval: false),
        new("attempted_v4_net", SetRole.Attempted, IsV6: false, Interval: true),
        new("attempted_v6_net", SetRole.Attempted, IsV6: true, Interval: true),
        new("blocked_v4", SetRole.Blocked, IsV6: false, Interval: false),
        new("blocked_v6", SetRole.Blocked, IsV6: true, Interval: false),
        new("blocked_v4_net", SetRole.Blocked, IsV6: false, Interval: true),
        new("blocked_v6_net", SetRole.Blocked, IsV6: true, Interval: true),
    ]);

    /// <summary>Every address set, in the order batches touch them.</summary>
    public IReadOnlyList<AddressSet> Sets { get; }

    /// <summary>The sets whose elements carry counters: what the periodic counter read lists.</summary>
    public IEnumerable<AddressSet> CountingSets => Sets.Where(s => s.Counts);

    /// <summary>
    /// The chain's rules in order, by comment, with their bodies: first the counting rules (they
    /// have no verdict), then the refusals. Per packet this is a few set lookups, however many
    /// zones there are.
    /// </summary>
    public IReadOnlyList<(string Comment, string Body)> Rules { get; }

    /// <summary>The set by name, or null when the layout has none of that name.</summary>
    public AddressSet? Find(string name) => byName.GetValueOrDefault(name);

    /// <summary>The set an address goes into for a role: by its family, and by whether it is a single address or a prefix.</summary>
    /// <exception cref="InvalidOperationException">The layout has no set for that role, family and shape.</exception>
    public AddressSet SetFor(SetRole role, EdgeAddress address) =>
        Sets.FirstOrDefault(s => s.Role == role && s.IsV6 == address.IsV6 && s.Interval == !address.IsSingle)
        ?? throw new InvalidOperationException($"the table layout has no {role} set for {address}");

    private List<(string Comment, string Body)> BuildRules()
    {
        var counting = new List<(string, string)>();
        var refusing = new List<(string, string)>();
        foreach (var set in Sets.Where(s => s.Role == SetRole.Attempted))
        {
            counting.Add(($"count-{set.Name}", $"tcp dport @{Ports} {SynOnly} {set.DestinationMatch} @{set.Name}"));
        }

        foreach (var closed in Sets.Where(s => s.Role == SetRole.Closed))
        {
            var blocked = Sets.FirstOrDefault(s => s.Role == SetRole.Blocked && s.IsV6 == closed.IsV6 && s.Interval == closed.Interval)
                ?? throw new ArgumentException($"closed set {closed.Name} has no blocked set of its family and shape to count into");
            var match = closed.DestinationMatch;
            // The blocked set is looked up only once the closed set matched, so its counter moves
            // only while the address is closed.
            counting.Add(($"count-{blocked.Name}", $"tcp dport @{Ports} {SynOnly} {match} @{closed.Name} {match} @{blocked.Name}"));
            refusing.Add(($"reset-tcp-{closed.Name}", $"meta l4proto tcp th dport @{Ports} {match} @{closed.Name} reject with tcp reset"));
            refusing.Add(($"unreachable-udp-{closed.Name}", $"meta l4proto udp th dport @{Ports} {match} @{closed.Name} reject with icmpx port-unreachable"));
        }

        return [.. counting, .. refusing];
    }
}
