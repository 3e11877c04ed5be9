using System.Text.Json;

namespace EdgeAgent.Dataplane;

/// <summary>One counting element's packet count as the kernel reported it.</summary>
public sealed record CounterReading(AddressSet Set, string Element, long Packets);

/// <summary>Everything the agent reads of its table: structure listings, rule comments, ports, and each set's elements.</summary>
/// <param name="Structure">Sets and chains of the namespace's <c>inet</c> tables, without elements.</param>
/// <param name="RuleComments">The comments of the hook chain's rules, in order.</param>
/// <param name="Ports">The plaintext ports set's elements, ascending.</param>
/// <param name="Elements">Each address set's elements, by set name.</param>
public sealed record KernelReading(
    StructureListing Structure,
    IReadOnlyList<string> RuleComments,
    IReadOnlyList<int> Ports,
    IReadOnlyDictionary<string, IReadOnlyList<KernelElement>> Elements);

/// <summary>
/// The agent's table as the kernel reports it, read through the one <see cref="TableLayout"/>:
/// whether its structure is the one the agent installs, the elements of each address set, and the
/// counters of the counting sets.
/// </summary>
public sealed class KernelTable
{
    private KernelTable(string? structureProblem, EdgeElements elements, IReadOnlyList<CounterReading> counters)
    {
        StructureProblem = structureProblem;
        Elements = elements;
        Counters = counters;
    }

    public bool StructureMatches => StructureProblem is null;

    /// <summary>True when the namespace has no trace of the table: a first start, or someone deleted it.</summary>
    public bool TableMissing { get; private init; }

    /// <summary>What is wrong with the structure, for the log; null when it matches.</summary>
    public string? StructureProblem { get; }

    /// <summary>The elements of each set of the layout that the kernel has.</summary>
    public EdgeElements Elements { get; }

    /// <summary>Packets counted per element of the counting sets.</summary>
    public IReadOnlyList<CounterReading> Counters { get; }

    /// <summary>Interprets a reading. Kernel content the agent did not write is drift, never an exception.</summary>
    /// <exception cref="JsonException">A listing is not JSON: nft never prints that, so it is a bug, not drift.</exception>
    public static KernelTable Parse(KernelReading reading, EdgeRuleset ruleset)
    {
        var layout = ruleset.Layout;
        var elements = new EdgeElements(layout);
        var counters = new List<CounterReading>();
        foreach (var set in layout.Sets)
        {
            // The reader writes elements as the agent does (EdgeAddress's canonical text), and content
            // the agent never writes (an IPv4-mapped address, a range) as the kernel's own text,
            // which matches nothing desired, so the diff deletes it.
            foreach (var (element, packets) in reading.Elements.GetValueOrDefault(set.Name) ?? [])
            {
                elements[set].Add(element);
                if (set.Counts && packets is { } count)
                {
                    counters.Add(new CounterReading(set, element, count));
                }
            }
        }

        var problem = FindStructureProblem(reading, ruleset);
        return new KernelTable(problem, elements, counters) { TableMissing = problem == Missing(ruleset) };
    }

    /// <summary>The counters of one counting set's elements.</summary>
    public static IReadOnlyList<CounterReading> Counted(AddressSet set, IReadOnlyList<KernelElement> elements) =>
        elements.Where(e => e.Packets is not null).Select(e => new CounterReading(set, e.Text, e.Packets!.Value)).ToList();

    private static string? FindStructureProblem(KernelReading reading, EdgeRuleset ruleset)
    {
        var sets = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        using var setListing = JsonDocument.Parse(reading.Structure.SetsJson);
        foreach (var set in Items(setListing, "set", ruleset.TableName))
        {
            sets[set.GetProperty("name").GetString()!] = set;
        }

        using var chainListing = JsonDocument.Parse(reading.Structure.ChainsJson);
        JsonElement? chain = Items(chainListing, "chain", ruleset.TableName)
            .Where(c => c.TryGetProperty("name", out var name) && name.GetString() == ruleset.Hook)
            .Select(c => (JsonElement?)c)
            .FirstOrDefault();

        if (sets.Count == 0 && chain is null)
        {
            return Missing(ruleset);
        }

        foreach (var wanted in ruleset.Layout.Sets)
        {
            if (!sets.TryGetValue(wanted.Name, out var set))
            {
                return $"set {wanted.Name} is missing";
            }

            var flags = set.TryGetProperty("flags", out var f) && f.ValueKind == JsonValueKind.Array ? f.EnumerateArray().Select(x => x.GetString()).ToList() : [];
            var type = set.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetRawText();
            if (type != wanted.ElementType || flags.Contains("interval") != wanted.Interval || set.TryGetProperty("stmt", out _) != wanted.Counts)
            {
                return $"set {wanted.Name} has the wrong type, flags or counter";
            }
        }

        if (!sets.TryGetValue(TableLayout.Ports, out var ports) || !ports.TryGetProperty("type", out var portType) || portType.GetString() != "inet_service")
        {
            return $"set {TableLayout.Ports} is missing or not of ports";
        }

        if (!reading.Ports.SequenceEqual(ruleset.PlaintextPorts))
        {
            return $"set {TableLayout.Ports} holds {string.Join(",", reading.Ports)}";
        }

        if (chain is not { } c || !c.TryGetProperty("hook", out var hook) || hook.GetString() != ruleset.Hook
            || !c.TryGetProperty("prio", out var prio) || prio.ValueKind != JsonValueKind.Number || prio.GetInt32() != -10
            || !c.TryGetProperty("policy", out var policy) || policy.GetString() != "accept")
        {
            return $"chain {ruleset.Hook} is missing or not hooked as the agent installs it";
        }

        return reading.RuleComments.SequenceEqual(ruleset.Layout.Rules.Select(r => r.Comment))
            ? null
            : $"chain {ruleset.Hook} holds rules [{string.Join(", ", reading.RuleComments)}]";
    }

    private static string Missing(EdgeRuleset ruleset) => $"table inet {ruleset.TableName} is missing";

    /// <summary>The objects of one kind ("set", "chain") that belong to the agent's <c>inet</c> table.</summary>
    private static IEnumerable<JsonElement> Items(JsonDocument listing, string kind, string table) =>
        listing.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(item => item.TryGetProperty(kind, out var value) && value.TryGetProperty("table", out var owner) && owner.GetString() == table
                && value.TryGetProperty("family", out var family) && family.GetString() == "inet")
            .Select(item => item.GetProperty(kind));
}
