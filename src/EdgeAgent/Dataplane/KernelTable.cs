using System.Globalization;
using System.Text.Json;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The agent's table as the kernel reports it (<c>nft -j list table</c>): whether its
/// structure is the one the agent installs, the elements of each address set, and the
/// per-element SYN counters of the watched sets.
/// </summary>
public sealed class KernelTable
{
    private KernelTable(bool structureMatches, string? structureProblem, EdgeElements elements, IReadOnlyDictionary<string, long> counters)
    {
        StructureMatches = structureMatches;
        StructureProblem = structureProblem;
        Elements = elements;
        Counters = counters;
    }

    public bool StructureMatches { get; }

    /// <summary>What is wrong with the structure, for the log; null when it matches.</summary>
    public string? StructureProblem { get; }

    public EdgeElements Elements { get; }

    /// <summary>Packets counted per watched element (canonical address text).</summary>
    public IReadOnlyDictionary<string, long> Counters { get; }

    public static KernelTable Parse(string json, EdgeRuleset ruleset)
    {
        using var document = JsonDocument.Parse(json);
        var elements = new EdgeElements();
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
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

        foreach (var (name, target) in new[]
                 {
                     (EdgeRuleset.ClosedV4, elements.ClosedV4), (EdgeRuleset.ClosedV6, elements.ClosedV6),
                     (EdgeRuleset.WatchedV4, elements.WatchedV4), (EdgeRuleset.WatchedV6, elements.WatchedV6),
                 })
        {
            if (sets.TryGetValue(name, out var set) && set.TryGetProperty("elem", out var members))
            {
                foreach (var member in members.EnumerateArray())
                {
                    var (text, packets) = ReadElement(member);
                    target.Add(text);
                    if (packets is { } count)
                    {
                        counters[text] = count;
                    }
                }
            }
        }

        var problem = FindStructureProblem(ruleset, sets, chain, ruleComments);
        return new KernelTable(problem is null, problem, elements, counters);
    }

    private static string? FindStructureProblem(EdgeRuleset ruleset, Dictionary<string, JsonElement> sets, JsonElement? chain, List<string> ruleComments)
    {
        foreach (var (name, type, counter) in new[]
                 {
                     (EdgeRuleset.ClosedV4, "ipv4_addr", false), (EdgeRuleset.ClosedV6, "ipv6_addr", false),
                     (EdgeRuleset.WatchedV4, "ipv4_addr", true), (EdgeRuleset.WatchedV6, "ipv6_addr", true),
                 })
        {
            if (!sets.TryGetValue(name, out var set))
            {
                return $"set {name} is missing";
            }

            var flags = set.TryGetProperty("flags", out var f) ? f.EnumerateArray().Select(x => x.GetString()).ToList() : [];
            if (set.GetProperty("type").GetString() != type || !flags.Contains("interval") || set.TryGetProperty("stmt", out _) != counter)
            {
                return $"set {name} has the wrong type, flags or counter";
            }
        }

        if (!sets.TryGetValue(EdgeRuleset.Ports, out var ports))
        {
            return $"set {EdgeRuleset.Ports} is missing";
        }

        var portElements = ports.TryGetProperty("elem", out var p) ? p.EnumerateArray().Select(e => e.GetInt32()).Order().ToList() : [];
        if (!portElements.SequenceEqual(ruleset.PlaintextPorts))
        {
            return $"set {EdgeRuleset.Ports} holds {string.Join(",", portElements)}";
        }

        if (chain is not { } c || c.GetProperty("hook").GetString() != ruleset.Hook
            || c.GetProperty("prio").GetInt32() != -10 || c.GetProperty("policy").GetString() != "accept")
        {
            return $"chain {ruleset.Hook} is missing or not hooked as the agent installs it";
        }

        return ruleComments.SequenceEqual(EdgeRuleset.Rules.Select(r => r.Comment))
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
