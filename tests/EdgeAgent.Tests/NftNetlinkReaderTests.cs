using ControlPlane.Testing;
using EdgeAgent.Dataplane;

namespace EdgeAgent.Tests;

/// <summary>The netlink reader against real nf_tables in a namespace the test creates, checked against what nft wrote.</summary>
public sealed class NftNetlinkReaderTests : IDisposable
{
    private static readonly AddressSet HashV4 = new("h4", SetRole.Attempted, IsV6: false, Interval: false);
    private static readonly AddressSet HashV6 = new("h6", SetRole.Closed, IsV6: true, Interval: false);
    private static readonly AddressSet NetV4 = new("n4", SetRole.Attempted, IsV6: false, Interval: true);
    private static readonly AddressSet NetV6 = new("n6", SetRole.Closed, IsV6: true, Interval: true);

    private readonly NetworkNamespace edge = NetworkNamespace.Create();
    private readonly NftNetlinkReader reader;

    public NftNetlinkReaderTests()
    {
        reader = new NftNetlinkReader(edge.Name);
        Nft("""
            add table inet t
            add set inet t h4 { type ipv4_addr; counter; }
            add set inet t h6 { type ipv6_addr; }
            add set inet t n4 { type ipv4_addr; flags interval; counter; }
            add set inet t n6 { type ipv6_addr; flags interval; }
            add element inet t h4 { 198.51.100.1 counter packets 5 bytes 300, 198.51.100.2 }
            add element inet t h6 { 2001:db8::a, ::ffff:198.51.100.99 }
            add element inet t n4 { 198.51.100.64/26 counter packets 7 bytes 420, 203.0.113.10-203.0.113.20, 203.0.113.200 }
            add element inet t n6 { 2001:db8:77::/64 }
            add chain inet t input { type filter hook input priority filter - 10; policy accept; }
            add rule inet t input ip daddr @h4 comment "first"
            add rule inet t input ip6 daddr @h6
            add rule inet t input ip daddr @n4 comment "third"
            """);
    }

    [Fact]
    public async Task HashSets_ReadAsCanonicalAddresses_WithTheirCounters()
    {
        var v4 = await reader.ReadSetAsync("t", HashV4, default);
        Assert.Equal([new("198.51.100.1", 5), new("198.51.100.2", 0)], v4.OrderBy(e => e.Text, StringComparer.Ordinal));

        var v6 = await reader.ReadSetAsync("t", HashV6, default);
        Assert.Equal([new("2001:db8::a", null), new("::ffff:198.51.100.99", null)], v6.OrderBy(e => e.Text, StringComparer.Ordinal));
    }

    [Fact]
    public async Task IntervalSets_ReadAsPrefixes_OrAsRangesWhenTheyAreNone()
    {
        // nft drops a counter value given for an interval element (it starts at zero), unlike a hash set's.
        var v4 = await reader.ReadSetAsync("t", NetV4, default);
        Assert.Equal(
            [new("198.51.100.64/26", 0), new("203.0.113.10-203.0.113.20", 0), new("203.0.113.200", 0)],
            v4.OrderBy(e => e.Text, StringComparer.Ordinal));
        Assert.Equal([new("2001:db8:77::/64", null)], await reader.ReadSetAsync("t", NetV6, default));
    }

    [Fact]
    public async Task RuleComments_InChainOrder()
    {
        Assert.Equal(["first", "", "third"], await reader.ReadRuleCommentsAsync("t", "input", default));
    }

    [Fact]
    public async Task AMissingTableOrSet_ReadsAsEmpty()
    {
        Assert.Empty(await reader.ReadSetAsync("t", HashV4 with { Name = "nope" }, default));
        Assert.Empty(await reader.ReadSetAsync("nope", HashV4, default));
        Assert.Empty(await reader.ReadRuleCommentsAsync("nope", "input", default));
    }

    [Fact]
    public async Task TheHostNamespace_IsNotRead()
    {
        var host = new NftNetlinkReader(null);
        Assert.Empty(await host.ReadSetAsync("t", HashV4, default));
    }

    [Fact]
    public async Task Generations_NameTheProcessThatWroteThem()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var generations = reader.WatchGenerationsAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        // The first MoveNextAsync joins the group before it waits, so the write below is seen.
        var next = generations.MoveNextAsync();

        var writer = 0;
        var nft = new NftCommand(edge.Name, started: pid => writer = pid);
        Assert.True((await nft.RunAsync(["add", "table", "inet", "someone_else"], null, default)).Succeeded);

        Assert.True(await next);
        Assert.Equal(writer, generations.Current.ProcessId);
        Assert.Equal("nft", generations.Current.Command);
        Assert.True(generations.Current.Generation > 0);
    }

    public void Dispose()
    {
        edge.Dispose();
    }

    private void Nft(string batch)
    {
        var result = new NftCommand(edge.Name).RunAsync(["-f", "-"], batch, default).GetAwaiter().GetResult();
        Assert.True(result.Succeeded, result.StandardError);
    }
}
