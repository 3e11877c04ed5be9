using System.Net.Sockets;
using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static EdgeAgent.Tests.Zones;

namespace EdgeAgent.Tests;

/// <summary>
/// The dataplane against the real kernel: real nft in an edge namespace, real
/// connections from a client namespace, listeners on every port that matters.
/// </summary>
public sealed class DataplaneLabTests : IDisposable
{
    private readonly EdgeLab lab = EdgeLab.Create();
    private readonly EdgeDataplane dataplane;
    private readonly CallLoggingBackend backend;

    // The lab's edge answers for every address of its pools, V4(n) and V6(n) included.
    public DataplaneLabTests() => dataplane = NewDataplane(lab.Edge.Name, out backend);

    [Fact]
    public async Task ClosedZone_RefusesEveryPlaintextPort_OnV4AndV6_AndServesHttps()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: true)], default);

        foreach (var address in new[] { V4(10), V6(10) })
        {
            foreach (var port in EdgeLab.PlaintextPorts)
            {
                Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(address, port));
            }

            foreach (var port in EdgeLab.HttpsPorts)
            {
                Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(address, port));
            }

            Assert.Equal(SocketError.ConnectionRefused, await lab.UdpProbeAsync(address, 80));
        }
    }

    [Fact]
    public async Task OpenZone_ServesPort80()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: false)], default);

        Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(10), 80));
        Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V6(10), 80));
    }

    [Fact]
    public async Task OnOffOn_EachStepConverges_AndOtherZonesAreUntouched()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: true), Zone(11, closed: false), Zone(12, closed: true)], default);

        foreach (var (closed, revision) in new[] { (true, 2L), (false, 3L), (true, 4L) })
        {
            await dataplane.ApplyAsync([Zone(11, closed, revision)], default);

            var expected = closed ? SocketError.ConnectionRefused : SocketError.Success;
            Assert.Equal(expected, await lab.TcpExchangeAsync(V4(11), 80));
            Assert.Equal(expected, await lab.TcpExchangeAsync(V6(11), 80));
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V6(12), 80));
            Assert.DoesNotContain(V4(10), dataplane.LastBatch, StringComparison.Ordinal);
            Assert.DoesNotContain(V4(12), dataplane.LastBatch, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("flush set inet edge_http_guard closed_v4")]
    [InlineData("delete element inet edge_http_guard closed_v6 { 2001:db8:1::a }")]
    [InlineData("delete table inet edge_http_guard")]
    [InlineData("delete rule inet edge_http_guard input handle HANDLE")]
    public async Task Drift_FromOutside_IsRepairedOnTheKernelsSignal_NotThePeriod(string tampering)
    {
        // A period far longer than the test: only the kernel's generation event can start the check.
        var options = Options.Create(new NftablesOptions { DriftCheckInterval = TimeSpan.FromHours(1) });
        using var repairer = new DriftRepairService(dataplane, options, TimeProvider.System, new EdgeAgent.Reporting.LoopFailures(TestMetrics.Agent()), TestMetrics.Agent(), NullLogger<DriftRepairService>.Instance);
        await dataplane.ConvergeAsync([Zone(10, closed: true)], default);
        await repairer.StartAsync(default);
        try
        {
            await WaitUntilTheMonitorListensAsync();
            Tamper(tampering);

            await WaitForAsync(() => dataplane.DriftRepairs > 0, TimeSpan.FromSeconds(5));
            Assert.Equal(1, dataplane.DriftRepairs);
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V6(10), 80));
        }
        finally
        {
            await repairer.StopAsync(default);
        }
    }

    [Fact]
    public async Task TheAgentsOwnChanges_DoNotStartADriftCheck()
    {
        var options = Options.Create(new NftablesOptions { DriftCheckInterval = TimeSpan.FromHours(1) });
        using var repairer = new DriftRepairService(dataplane, options, TimeProvider.System, new EdgeAgent.Reporting.LoopFailures(TestMetrics.Agent()), TestMetrics.Agent(), NullLogger<DriftRepairService>.Instance);
        await dataplane.ConvergeAsync([Zone(10, closed: true), Zone(11, closed: false)], default);
        await repairer.StartAsync(default);
        try
        {
            await WaitUntilTheMonitorListensAsync();
            for (var revision = 2; revision < 6; revision++)
            {
                await dataplane.ApplyAsync([Zone(11, closed: revision % 2 == 0, revision)], default);
            }

            // A foreign write after them: its check is the only one, so the own ones started none.
            lab.EdgeNft("add", "table", "inet", "after_own_changes");
            await WaitForAsync(() => backend.Calls.Contains("list structure"), TimeSpan.FromSeconds(5));
            Assert.Equal(["apply", "apply", "apply", "apply", "list structure"], backend.Calls.Take(5));
            Assert.Single(backend.Calls, "list structure");
        }
        finally
        {
            await repairer.StopAsync(default);
        }
    }

    /// <summary>
    /// The monitor starts on its own task; until it has subscribed, the kernel's events pass it by.
    /// Foreign writes that change nothing of the agent's are repeated until one leads to a check
    /// (a read of the table's structure), which proves the monitor listens. Then the call log is cleared.
    /// </summary>
    private async Task WaitUntilTheMonitorListensAsync()
    {
        backend.Clear();
        for (var probe = 0; probe < 40 && !backend.Calls.Contains("list structure"); probe++)
        {
            lab.EdgeNft("add", "table", "inet", $"monitor_probe_{probe}");
            await WaitForAsync(() => backend.Calls.Contains("list structure"), TimeSpan.FromMilliseconds(500), throwOnTimeout: false);
        }

        // Let the check (or two, if a second probe went out before the first check began) finish.
        var lastRead = $"read set {TableLayout.Default.Sets[^1].Name}";
        await WaitForAsync(
            () => backend.Calls.Count(c => c == "list structure") is var checks && checks > 0 && backend.Calls.Count(c => c == lastRead) == checks,
            TimeSpan.FromSeconds(10));
        backend.Clear();
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, bool throwOnTimeout = true)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.False(throwOnTimeout, $"the condition did not hold within {timeout}");
                return;
            }

            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("attempted_v6", "::ffff:198.51.100.99")]
    [InlineData("closed_v6", "::ffff:198.51.100.98")]
    [InlineData("blocked_v4", "198.51.100.97")]
    [InlineData("closed_v4_net", "198.51.100.200-198.51.100.210")]
    [InlineData("attempted_v4_net", "198.51.100.64/26")]
    [InlineData("closed_v6_net", "2001:db8:77::/64")]
    public async Task ForeignElements_AreDriftToRemove_NeverAnException(string set, string element)
    {
        await dataplane.ConvergeAsync([Zone(10, closed: true), Zone(11, closed: false)], default);
        Tamper($"add element inet edge_http_guard {set} {{ {element} }}");
        Assert.Contains(element.Split('-')[0].Split('/')[0], ListTable(), StringComparison.Ordinal);

        Assert.True(await dataplane.RepairDriftAsync(default));

        Assert.DoesNotContain(element.Split('-')[0].Split('/')[0], ListTable(), StringComparison.Ordinal);
        Assert.False(await dataplane.RepairDriftAsync(default));
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
        Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(11), 80));
    }

    [Fact]
    public async Task Counters_NSyns_ReadBackAsExactlyN_PerZone_AcrossRemoveAndReAdd()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: false), Zone(11, closed: true)], default);
        for (var i = 0; i < 5; i++)
        {
            await lab.TcpExchangeAsync(V4(10), 80);
        }

        await lab.TcpExchangeAsync(V6(10), 8080);
        for (var i = 0; i < 3; i++)
        {
            await lab.TcpExchangeAsync(V4(11), 2052);
        }

        var first = await dataplane.ReadCountersAsync(default);
        Assert.Equal(new ZoneSynCounts(5, 1), first[ZoneId(10)]);
        Assert.Equal(new ZoneSynCounts(3, 0, BlockedV4: 3), first[ZoneId(11)]);

        // Two more, then the zone's addresses go away and come back: nothing is lost or double counted.
        await lab.TcpExchangeAsync(V4(10), 80);
        await lab.TcpExchangeAsync(V4(10), 80);
        await dataplane.ApplyAsync([Zone(10, closed: false, revision: 2) with { Addresses = [] }], default);
        await dataplane.ApplyAsync([Zone(10, closed: false, revision: 3)], default);
        await lab.TcpExchangeAsync(V4(10), 80);

        var second = await dataplane.ReadCountersAsync(default);
        Assert.Equal(new ZoneSynCounts(3, 0), second[ZoneId(10)]);
        Assert.False(second.ContainsKey(ZoneId(11)), "a zone without traffic is left out");
        Assert.Empty(await dataplane.ReadCountersAsync(default));
    }

    [Fact]
    public async Task ASetOfTheWrongType_IsRebuilt_AndTheAgentKeepsEnforcing()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: true)], default);
        // Someone replaces the table with one whose closed_v4 holds MAC addresses.
        lab.EdgeNft("delete", "table", "inet", "edge_http_guard");
        lab.EdgeNft("add", "table", "inet", "edge_http_guard");
        lab.EdgeNft("add", "set", "inet", "edge_http_guard", "closed_v4", "{ type ether_addr; elements = { 02:00:00:00:00:01 }; }");

        Assert.True(await dataplane.RepairDriftAsync(default));

        Assert.DoesNotContain("ether_addr", ListTable(), StringComparison.Ordinal);
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
        Assert.False(await dataplane.RepairDriftAsync(default));
    }

    [Fact]
    public async Task Counters_ExactAcrossOpenCloseOpen_AndNoChangeReadsTheKernel()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: false), Zone(11, closed: true)], default);

        // Open: served, counted as attempted only.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(10), 80));
        }

        backend.Clear();
        await dataplane.ApplyAsync([Zone(10, closed: true, revision: 2)], default);
        Assert.Equal(["apply"], backend.Calls);
        Assert.Equal(
            $"add element inet edge_http_guard closed_v4 {{ {V4(10)} }}\nadd element inet edge_http_guard closed_v6 {{ {V6(10)} }}\n",
            Assert.Single(backend.Batches));

        // Closed: refused, counted as attempted and blocked.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
        }

        backend.Clear();
        await dataplane.ApplyAsync([Zone(10, closed: false, revision: 3)], default);
        Assert.Equal(["apply"], backend.Calls);
        Assert.Equal(
            $"delete element inet edge_http_guard closed_v4 {{ {V4(10)} }}\ndelete element inet edge_http_guard closed_v6 {{ {V6(10)} }}\n",
            Assert.Single(backend.Batches));

        // Open again: served, attempted only; the blocked count of the closed phase is kept.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(10), 80));
        }

        await lab.TcpExchangeAsync(V6(10), 8080);
        var counts = await dataplane.ReadCountersAsync(default);
        Assert.Equal(new ZoneSynCounts(9, 1, BlockedV4: 3), counts[ZoneId(10)]);
        Assert.False(counts.ContainsKey(ZoneId(11)), "a zone without traffic is left out");

        // A deleted zone's counts since the last read are still reported, by the next read, which
        // then removes its counting elements; the deletion itself only stops enforcing.
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(11), 80));
        backend.Clear();
        await dataplane.ApplyAsync([Zone(11, closed: false, revision: 4) with { Addresses = [] }], default);
        Assert.Equal(["apply"], backend.Calls);
        Assert.DoesNotContain("attempted", Assert.Single(backend.Batches), StringComparison.Ordinal);
        Assert.Contains(V4(11), lab.EdgeNft("list", "set", "inet", "edge_http_guard", "attempted_v4"), StringComparison.Ordinal);

        var last = await dataplane.ReadCountersAsync(default);
        Assert.Equal(new ZoneSynCounts(1, 0, BlockedV4: 1), last[ZoneId(11)]);
        Assert.DoesNotContain(V4(11), lab.EdgeNft("list", "set", "inet", "edge_http_guard", "attempted_v4"), StringComparison.Ordinal);
        Assert.Empty(await dataplane.ReadCountersAsync(default));
    }

    [Fact]
    public async Task CounterRead_ListsOnlyTheCountingSets_BlockedBeforeAttempted()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: true)], default);
        backend.Clear();

        await dataplane.ReadCountersAsync(default);

        // Blocked first: a SYN counted as blocked was counted as attempted before it, so the sums
        // of the reports never hold a block without its attempt.
        var blocked = TableLayout.Default.CountingSets.Where(s => s.Role == SetRole.Blocked).ToList();
        var attempted = TableLayout.Default.CountingSets.Where(s => s.Role == SetRole.Attempted).ToList();
        Assert.NotEmpty(blocked);
        Assert.NotEmpty(attempted);
        Assert.Equal(blocked.Concat(attempted).Select(s => $"read set {s.Name}"), backend.Calls);
    }

    [Fact]
    public async Task ABurstOfChangesToManyZones_IsOneTransaction()
    {
        var zones = Enumerable.Range(20, 100).Select(host => Zone(host, closed: false)).ToList();
        await dataplane.ConvergeAsync(zones, default);
        backend.Clear();

        await dataplane.ApplyAsync(zones.Select(z => z with { Revision = 2, HttpPortsClosed = true }), default);

        Assert.Equal(["apply"], backend.Calls);
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(20), 80));
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V6(119), 80));
    }

    [Fact]
    public async Task Counters_SplitAttemptedAndBlocked_AcrossAClose()
    {
        await dataplane.ConvergeAsync([Zone(10, closed: false)], default);
        await lab.TcpExchangeAsync(V4(10), 80);
        await lab.TcpExchangeAsync(V4(10), 8080);

        await dataplane.ApplyAsync([Zone(10, closed: true, revision: 2)], default);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
        }

        var counts = await dataplane.ReadCountersAsync(default);
        Assert.Equal(new ZoneSynCounts(5, 0, BlockedV4: 3), counts[ZoneId(10)]);
    }

    [Fact]
    public async Task ForeignTable_SurvivesConvergeAndUninstall()
    {
        lab.EdgeNft("add", "table", "inet", "someone_else");
        lab.EdgeNft("add", "set", "inet", "someone_else", "blocked", "{ type ipv4_addr; elements = { 198.51.100.99 }; }");
        var before = lab.EdgeNft("list", "table", "inet", "someone_else");

        await dataplane.ConvergeAsync([Zone(10, closed: true)], default);
        await dataplane.UninstallAsync(default);

        Assert.Equal(before, lab.EdgeNft("list", "table", "inet", "someone_else"));
        Assert.DoesNotContain("edge_http_guard", lab.EdgeNft("list", "tables"), StringComparison.Ordinal);
        Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(10), 80));
    }

    [Fact]
    public async Task BadZones_FailAlone_AndEveryOtherZoneIsApplied()
    {
        var invalid = Zone(20, closed: true) with { Addresses = ["198.51.100.300"] };
        var overlapping = Zone(21, closed: true, revision: 5) with { Addresses = ["198.51.100.8/29"] };

        await dataplane.ConvergeAsync([Zone(10, closed: true), invalid, overlapping, Zone(12, closed: true)], default);

        Assert.Contains("198.51.100.300", dataplane.Failures[ZoneId(20)], StringComparison.Ordinal);
        Assert.Contains($"overlaps {V4(10)} of zone {ZoneId(10)}", dataplane.Failures[ZoneId(21)], StringComparison.Ordinal);
        Assert.Equal(2, dataplane.Failures.Count);
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(10), 80));
        Assert.Equal(SocketError.ConnectionRefused, await lab.TcpExchangeAsync(V4(12), 80));
        Assert.Equal(SocketError.Success, await lab.TcpExchangeAsync(V4(11), 80));
    }

    [Fact]
    public async Task OneChange_At10000Zones_CarriesOnlyThatZonesElements()
    {
        var zones = Enumerable.Range(1, 10_000)
            .Select(i => new ControlPlane.Contracts.ZoneEdgeState(ZoneId(100_000 + i), 1, [$"2001:db8:2::{i:x}"], i % 2 == 0, null))
            .ToList();
        await dataplane.ConvergeAsync(zones, default);

        // Zone 5001 is open (odd); closing it must add its one address to closed_v6, nothing more.
        await dataplane.ApplyAsync([zones[5_000] with { Revision = 2, HttpPortsClosed = true }], default);

        var lines = dataplane.LastBatch!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var only = Assert.Single(lines);
        Assert.Equal("add element inet edge_http_guard closed_v6 { 2001:db8:2::1389 }", only);
        Assert.Contains("2001:db8:2::1389", lab.EdgeNft("list", "set", "inet", "edge_http_guard", "closed_v6"), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        dataplane.Dispose();
        backend.Dispose();
        lab.Dispose();
    }

    private string ListTable() => lab.EdgeNft("list", "table", "inet", "edge_http_guard");

    private void Tamper(string command)
    {
        if (command.Contains("HANDLE", StringComparison.Ordinal))
        {
            // The handle of the TCP reset rule for IPv4.
            var listing = lab.EdgeNft("-a", "list", "chain", "inet", "edge_http_guard", "input");
            var line = listing.Split('\n').Single(l => l.Contains("\"reset-tcp-closed_v4\"", StringComparison.Ordinal));
            command = command.Replace("HANDLE", line[(line.LastIndexOf("handle ", StringComparison.Ordinal) + 7)..].Trim(), StringComparison.Ordinal);
        }

        lab.EdgeNft(command.Split(' '));
    }
}
