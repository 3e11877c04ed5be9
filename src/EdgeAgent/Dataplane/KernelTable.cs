using System.Globalization;
using System.Text.Json;

namespace EdgeAgent.Dataplane;

/// <summary>One counting element's packet count as the kernel reported it.</summary>
public sealed record CounterReading(AddressSet Set, string Element, long Packets);

/// <summary>
/// The agent's table as the kernel reports it (<c>nft -j list table</c>), read through the one
/// <see cref="TableLayout"/>: whether its structure is the one the agent installs, the elements
/// of each address set, and the counters of the counting sets.
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

    /// <summary>What is wrong with the structure, for the log; null when it matches.</summary>
    public string? StructureProblem { get; }

    /// <summary>The elements of each set of the layout that the kernel has.</summary>
    public EdgeElements Elements { get; }

    /// <summary>Packets counted per element of the counting sets.</summary>
    public IReadOnlyList<CounterReading> Counters { get; }

    /// <summary>Parses a whole-table listing.</summary>
    /// <exception cref="JsonException">The text is not JSON: nft never prints that, so it is a bug, not drift.</exception>
    public static KernelTable Parse(string json, EdgeRuleset ruleset)
    {
        using var document = JsonDocument.Parse(json);
        var layout = ruleset.Layout;
        var elements = new EdgeElements(layout);
        var counters = new List<CounterReading>();
        var sets = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        JsonElement? chain = null;
        var ruleComments = new List<string>();

        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("set", out var set))
            {
                sets[set.GetProperty("name").GetString()!] = set.Clone();
            }
            else if (item.TryGetProperty("chain", out var c) && c.GetProperty("name").GetString() == ruleset.Hook)
            {
                chain = c.Clone();
            }
            else if (item.TryGetProperty("rule", out var rule) && rule.GetProperty("chain").GetString() == ruleset.Hook)
            {
                ruleComments.Add(rule.TryGetProperty("comment", out var comment) ? comment.GetString() ?? "" : "");
            }
        }

        foreach (var set in layout.Sets)
        {
            if (sets.TryGetValue(set.Name, out var listed))
            {
                ReadMembers(set, listed, elements[set], counters);
            }
        }

        return new KernelTable(FindStructureProblem(ruleset, sets, chain, ruleComments), elements, counters);
    }

    /// <summary>
    /// Parses a one-set listing (<c>nft -j list set</c>) of a counting set into its counters;
    /// empty when the listing holds no such set.
    /// </summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static IReadOnlyList<CounterReading> ParseCounters(string json, AddressSet set)
    {
        using var document = JsonDocument.Parse(json);
        var counters = new List<CounterReading>();
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("set", out var listed) && listed.GetProperty("name").GetString() == set.Name)
            {
                ReadMembers(set, listed, new HashSet<string>(StringComparer.Ordinal), counters);
            }
        }

        return counters;
    }

    private static void ReadMembers(AddressSet set, JsonElement listed, HashSet<string> elements, List<CounterReading> counters)
    {
        if (!listed.TryGetProperty("elem", out var members))
        {
            return;
        }

        foreach (var member in members.EnumerateArray())
        {
            var (text, packets) = ReadElement(member);
            elements.Add(text);
            if (set.Counts && packets is { } count)
            {
                counters.Add(new CounterReading(set, text, count));
            }
        }
    }

    private static string? FindStructureProblem(EdgeRuleset ruleset, Dictionary<string, JsonElement> sets, JsonElement? chain, List<string> ruleComments)
    {
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

        if (!sets.TryGetValue(TableLayout.Ports, out var ports))
        {
            return $"set {TableLayout.Ports} is missing";
        }

        var portElements = ports.TryGetProperty("elem", out var p) ? p.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetInt32() : -1).Order().ToList() : [];
        if (!portElements.SequenceEqual(ruleset.PlaintextPorts))
        {
            return $"set {TableLayout.Ports} holds {string.Join(",", portElements)}";
        }

        if (chain is not { } c || !c.TryGetProperty("hook", out var hook) || hook.GetString() != ruleset.Hook
            || !c.TryGetProperty("prio", out var prio) || prio.ValueKind != JsonValueKind.Number || prio.GetInt32() != -10
            || !c.TryGetProperty("policy", out var policy) || policy.GetString() != "accept")
        {
            return $"chain {ruleset.Hook} is missing or not hooked as the agent installs it";
        }

        return ruleComments.SequenceEqual(ruleset.Layout.Rules.Select(r => r.Comment))
            ? null
            : $"chain {ruleset.Hook} holds rules [{string.Join(", ", ruleComments)}]";
    }

    private static (string Text, long? Packets) ReadElement(JsonElement member)
    {
        long? packets = null;
        var value = member;
        if (member.ValueKind == JsonValueKind.Object && member.TryGetProperty("elem", out var elem))
        {
            value = elem.GetProperty("val");
            if (elem.TryGetProperty("counter", out var counter))
            {
                packets = counter.GetProperty("packets").GetInt64();
            }
        }

        return (ElementText(value), packets);
    }

    /// <summary>
    /// The element as the agent writes it, or, for content the agent would never write (an
    /// IPv4-mapped IPv6 address, a range, a prefix it cannot read), the kernel's own text: such an
    /// element matches nothing desired, so the diff deletes it. Kernel content is drift to remove,
    /// never a reason to throw.
    /// </summary>
    private static string ElementText(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return Canonical(value.GetString()!);
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("prefix", out var prefix)
            && prefix.TryGetProperty("addr", out var addr) && prefix.TryGetProperty("len", out var len))
        {
            return Canonical(string.Create(CultureInfo.InvariantCulture, $"{addr.GetString()}/{len.GetRawText()}"));
        }

        // A range someone else added: kept verbatim, so it never matches and gets deleted.
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("range", out var range)
            && range.ValueKind == JsonValueKind.Array && range.GetArrayLength() == 2)
        {
            return $"{range[0].GetString()}-{range[1].GetString()}";
        }

        return value.GetRawText();
    }

    private static string Canonical(string text) => EdgeAddress.TryParse(text, out var address, out _) ? address.Text : text;
}
