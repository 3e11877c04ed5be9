using EdgeAgent.Dataplane;

namespace EdgeAgent.Tests;

/// <summary>
/// The one table description drives creation, diffing and parsing: a set added to it is handled
/// everywhere without another edit. Pure logic; DataplaneLabTests run the default layout in a kernel.
/// </summary>
public sealed class TableLayoutTests
{
    private static readonly AddressSet Extra = new("extra_v4", SetRole.Attempted, IsV6: false, Interval: false);
    private static readonly TableLayout WithExtra = new([.. TableLayout.Default.Sets, Extra]);
    private readonly EdgeRuleset ruleset = new(new NftablesOptions(), WithExtra);

    [Fact]
    public void AnAddedSet_IsCreated_WithItsTypeAndCounter_AndCountedByARule()
    {
        var batch = ruleset.Create(new EdgeElements(WithExtra));

        Assert.Contains("add set inet edge_http_guard extra_v4 { type ipv4_addr; counter; }", batch, StringComparison.Ordinal);
        Assert.Contains("ip daddr @extra_v4 comment \"count-extra_v4\"", batch, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddedSet_IsDiffed()
    {
        var kernel = new EdgeElements(WithExtra);
        kernel[Extra].Add("198.51.100.1");
        var wanted = new EdgeElements(WithExtra);
        wanted[Extra].Add("198.51.100.2");

        Assert.Equal(
            "delete element inet edge_http_guard extra_v4 { 198.51.100.1 }\nadd element inet edge_http_guard extra_v4 { 198.51.100.2 }\n",
            ruleset.Diff(kernel, wanted));
    }

    [Fact]
    public void AnAddedSet_IsParsed_AndItsAbsenceIsAStructureProblem()
    {
        var table = KernelTable.Parse(Reading(withExtra: true), ruleset);

        Assert.True(table.StructureMatches, table.StructureProblem);
        Assert.Equal(["198.51.100.7"], table.Elements[Extra]);
        Assert.Equal(new CounterReading(Extra, "198.51.100.7", 42), Assert.Single(table.Counters, c => c.Set == Extra));

        var without = KernelTable.Parse(Reading(withExtra: false), ruleset);
        Assert.Equal("set extra_v4 is missing", without.StructureProblem);
    }

    [Fact]
    public void EveryAddress_HasASetPerRole_ByFamilyAndShape()
    {
        var layout = TableLayout.Default;
        Assert.True(EdgeAddress.TryParse("198.51.100.7", out var single, out _));
        Assert.True(EdgeAddress.TryParse("2001:db8::/64", out var prefix, out _));

        Assert.Equal("closed_v4", layout.SetFor(SetRole.Closed, single).Name);
        Assert.Equal("blocked_v6_net", layout.SetFor(SetRole.Blocked, prefix).Name);
        Assert.False(layout.SetFor(SetRole.Attempted, single).Interval);
        Assert.True(layout.SetFor(SetRole.Attempted, prefix).Interval);
    }

    /// <summary>
    /// What the kernel would report for a table created from <see cref="WithExtra"/> (built from
    /// the layout itself): the terse set and chain listings, the rule comments, the ports, and
    /// one element with a counter in the added set.
    /// </summary>
    private static KernelReading Reading(bool withExtra)
    {
        var sets = new List<string> { """{"set": {"family": "inet", "table": "edge_http_guard", "name": "plaintext_ports", "type": "inet_service"}}""" };
        foreach (var set in WithExtra.Sets.Where(s => withExtra || s != Extra))
        {
            var flags = set.Interval ? """, "flags": ["interval"]""" : "";
            var counter = set.Counts ? """, "stmt": [{"counter": null}]""" : "";
            sets.Add($$"""{"set": {"family": "inet", "table": "edge_http_guard", "name": "{{set.Name}}", "type": "{{set.ElementType}}"{{flags}}{{counter}}""" + "}}");
        }

        var chains = """{"nftables": [{"chain": {"family": "inet", "table": "edge_http_guard", "name": "input", "hook": "input", "prio": -10, "policy": "accept"}}]}""";
        var elements = new Dictionary<string, IReadOnlyList<KernelElement>> { [Extra.Name] = [new KernelElement("198.51.100.7", 42)] };
        return new KernelReading(
            new StructureListing($$"""{"nftables": [{{string.Join(", ", sets)}}]}""", chains),
            WithExtra.Rules.Select(r => r.Comment).ToList(),
            new NftablesOptions().ParsePorts(),
            elements);
    }
}
