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
        var listing = Listing(withExtra: true);
        var table = KernelTable.Parse(listing, ruleset);

        Assert.True(table.StructureMatches, table.StructureProblem);
        Assert.Equal(["198.51.100.7"], table.Elements[Extra]);
        Assert.Equal(new CounterReading(Extra, "198.51.100.7", 42), Assert.Single(table.Counters, c => c.Set == Extra));

        var without = KernelTable.Parse(Listing(withExtra: false), ruleset);
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

    /// <summary>What <c>nft -j list table</c> prints for a table created from <see cref="WithExtra"/>, built from the layout itself.</summary>
    private static string Listing(bool withExtra)
    {
        var items = new List<string> { """{"metainfo": {"version": "1.0.6"}}""" };
        items.Add("""{"set": {"name": "plaintext_ports", "type": "inet_service", "elem": [80, 8080, 8880, 2052, 2082, 2086, 2095]}}""");
        foreach (var set in WithExtra.Sets.Where(s => withExtra || s != Extra))
        {
            var flags = set.Interval ? """, "flags": ["interval"]""" : "";
            var counter = set.Counts ? """, "stmt": [{"counter": null}]""" : "";
            var elements = set == Extra ? """, "elem": [{"elem": {"val": "198.51.100.7", "counter": {"packets": 42, "bytes": 2520}}}]""" : "";
            items.Add($$"""{"set": {"name": "{{set.Name}}", "type": "{{set.ElementType}}"{{flags}}{{counter}}{{elements}}""" + "}}");
        }

        items.Add("""{"chain": {"name": "input", "hook": "input", "prio": -10, "policy": "accept"}}""");
        items.AddRange(WithExtra.Rules.Select(r => $$"""{"rule": {"chain": "input", "comment": "{{r.Comment}}" """ + "}}"));
        return $$"""{"nftables": [{{string.Join(", ", items)}}]}""";
    }
}
