using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using static EdgeAgent.Tests.Zones;

namespace EdgeAgent.Tests;

/// <summary>Pure logic of the desired state; the same paths run against the kernel in DataplaneLabTests.</summary>
public sealed class DesiredEdgeStateTests
{
    [Theory]
    [InlineData("198.51.100.7/32", "198.51.100.7")]
    [InlineData("198.51.100.0/28", "198.51.100.0/28")]
    [InlineData("2001:DB8:0:0::7", "2001:db8::7")]
    [InlineData("2001:db8:1::/64", "2001:db8:1::/64")]
    public void Address_IsWrittenCanonically(string input, string canonical)
    {
        Assert.True(EdgeAddress.TryParse(input, out var address, out _));
        Assert.Equal(canonical, address.Text);
    }

    [Theory]
    [InlineData("198.51.100.300")]
    [InlineData("198.51.100.7/24")]
    [InlineData("::ffff:198.51.100.7")]
    [InlineData("")]
    [InlineData("example.com")]
    public void Address_Invalid_IsRefusedWithTheValueInTheError(string input)
    {
        Assert.False(EdgeAddress.TryParse(input, out _, out var error));
        Assert.Contains($"'{input}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingZones_TheEarlierClaimKeepsTheAddress()
    {
        var older = Zone(10, closed: true, revision: 1);
        var newer = new ZoneEdgeState(ZoneId(99), 2, ["198.51.100.8/29"], true, null);

        var state = DesiredEdgeState.Build([newer, older], "ams");

        Assert.True(state.Zones.ContainsKey(older.ZoneId));
        Assert.Contains("overlaps 198.51.100.10", state.Failures[newer.ZoneId], StringComparison.Ordinal);
        Assert.Equal([V4(10)], state.Elements["closed_v4"]);
    }

    [Fact]
    public void EnforceIn_OtherDataCenters_WatchesButDoesNotClose()
    {
        var zone = Zone(10, closed: true) with { EnforceIn = ["sjc"] };

        var state = DesiredEdgeState.Build([zone], "ams");

        Assert.Empty(state.Elements["closed_v4"]);
        Assert.Equal([V4(10)], state.Elements["attempted_v4"]);
        Assert.Equal([V6(10)], state.Elements["attempted_v6"]);
        Assert.Equal([V4(10)], state.Elements["blocked_v4"]);
    }

    [Fact]
    public void SameZoneTwice_TheNewestRevisionWins()
    {
        var state = DesiredEdgeState.Build([Zone(10, closed: true, revision: 3), Zone(10, closed: false, revision: 2)], "ams");

        Assert.Empty(state.Failures);
        Assert.Equal([V4(10)], state.Elements["closed_v4"]);
    }

    [Fact]
    public void OneZoneChange_YieldsOnlyItsElements()
    {
        var ruleset = new EdgeRuleset(new NftablesOptions());
        var state = DesiredEdgeState.Build([Zone(10, closed: true), Zone(11, closed: false)], "ams");

        var changes = state.Apply([Zone(11, closed: true, revision: 2)]);

        Assert.Equal(
            $"add element inet edge_http_guard closed_v4 {{ {V4(11)} }}\nadd element inet edge_http_guard closed_v6 {{ {V6(11)} }}\n",
            ruleset.Changes(changes));
    }

    [Fact]
    public void FailedZone_IsRetried_WhenAChangeFreesItsAddress()
    {
        var squatter = Zone(10, closed: true, revision: 1);
        var waiting = new ZoneEdgeState(ZoneId(50), 2, [V4(10)], true, null);
        var state = DesiredEdgeState.Build([squatter, waiting], "ams");
        Assert.Contains(waiting.ZoneId, state.Failures.Keys);

        var changes = state.Apply([squatter with { Revision = 3, Addresses = [] }]);

        Assert.Empty(state.Failures);
        Assert.Equal(waiting.ZoneId, state.AddressOwners[V4(10)]);
        // The v4 address changes hands and stays closed: its elements stay as they are (only the
        // owner its counts are booked to changes), while the squatter's v6 address leaves every set.
        Assert.DoesNotContain(changes, c => c.Element == V4(10));
        Assert.Equal(
            ["attempted_v6", "blocked_v6", "closed_v6"],
            changes.Where(c => c is { Add: false } && c.ZoneId == squatter.ZoneId && c.Element == V6(10)).Select(c => c.Set.Name).Order());
    }

    [Fact]
    public void ExistingZone_KeepsItsAddress_WhenANewerZoneClaimsIt()
    {
        var state = DesiredEdgeState.Build([Zone(10, closed: true, revision: 5)], "ams");

        var changes = state.Apply([new ZoneEdgeState(ZoneId(60), 1, [V4(10)], false, null)]);

        Assert.Empty(changes);
        Assert.Contains($"overlaps {V4(10)} of zone {ZoneId(10)}", state.Failures[ZoneId(60)], StringComparison.Ordinal);
        Assert.Equal([V4(10)], state.Elements["closed_v4"]);
    }
}
