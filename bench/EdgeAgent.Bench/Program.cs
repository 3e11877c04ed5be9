using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using EdgeAgent;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Dataplane benchmarks, in a lab of network namespaces made and removed here.
// Usage: dotnet EdgeAgent.Bench.dll [output.md]
var output = args.FirstOrDefault() ?? Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks.md");
var report = new StringBuilder();
void Say(string line)
{
    Console.WriteLine(line);
    report.AppendLine(line);
}

int[] sizes = [1_000, 10_000, 100_000];
const int Probes = 300;

Say("# Dataplane benchmarks");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {Version()}."));
Say("Each zone has one IPv6 address in 2001:db8:1::/64; half the zones are closed. Produced by `scripts/bench`.");
Say("");
Say("## Converge and change");
Say("");
Say("| zones | converge from empty | one change on that table (median of 20) | batch lines for one change | `nft list tables` on that table (median of 5) |");
Say("| ---: | ---: | ---: | ---: | ---: |");
foreach (var size in sizes)
{
    using var ns = NetworkNamespace.Create();
    using var dataplane = NewDataplane(ns.Name);
    var zones = MakeZones(size);
    var converge = Stopwatch.StartNew();
    await dataplane.ConvergeAsync(zones, default);
    converge.Stop();

    var changes = new List<double>();
    for (var i = 0; i < 20; i++)
    {
        var zone = zones[i * 37 % size];
        var changed = zone with { Revision = 2 + i, HttpPortsClosed = !zone.HttpPortsClosed };
        zones[i * 37 % size] = changed;
        var change = Stopwatch.StartNew();
        await dataplane.ApplyAsync([changed], default);
        changes.Add(change.Elapsed.TotalMilliseconds);
    }

    var lines = dataplane.LastBatch!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    // The floor: what any nft invocation costs in a namespace holding this table.
    var floor = new List<double>();
    var nft = new NftCommand(ns.Name);
    for (var i = 0; i < 5; i++)
    {
        var list = Stopwatch.StartNew();
        await nft.RunAsync(["list", "tables"], null, default);
        floor.Add(list.Elapsed.TotalMilliseconds);
    }

    Say(string.Create(CultureInfo.InvariantCulture, $"| {size:N0} | {converge.Elapsed.TotalMilliseconds:F0} ms | {Median(changes):F1} ms | {lines} | {Median(floor):F1} ms |"));
}

Say("");
Say("A change is always one `add element`/`delete element` line, whatever the table size. Its time tracks the last column: "
    + "nft 1.0.6 fills its cache from the kernel (set contents included) on every invocation, so any nft command costs that much in a namespace holding a large table.");
Say("");
Say("## Time to a client's RST: nftables sets vs one rule per address");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"A client in its own namespace connects {Probes} times to port 80 of a closed address (the last one added) and times each refused connect.")
    + " The linear variant is the iptables-per-block approach written in nft: one `ip6 daddr X tcp dport @ports reject` rule per closed address, probed address last.");
Say("");
Say("| closed zones | sets: median | sets: p99 | linear: median | linear: p99 | linear / sets (median) |");
Say("| ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var closed in new[] { 1, 100_000 })
{
    var (setMedian, setP99) = await MeasureRstAsync(closed, linear: false);
    var (linMedian, linP99) = await MeasureRstAsync(closed, linear: true);
    Say(string.Create(CultureInfo.InvariantCulture, $"| {closed:N0} | {setMedian:F1} µs | {setP99:F1} µs | {linMedian:F1} µs | {linP99:F1} µs | {linMedian / setMedian:F2} |"));
}

Say("");
Say("## Other benchmarks");
Say("");
Say("- API latency: [benchmarks-api.md](benchmarks-api.md) (`scripts/bench-api`).");
Say("- Propagation latency and dispatch rate: [benchmarks-propagation.md](benchmarks-propagation.md) (`scripts/bench-propagation 3 20`).");
Say("- Analytics ingestion: [benchmarks-analytics.md](benchmarks-analytics.md) (`scripts/bench-propagation ingest`).");
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine($"\nwritten to {output}");

static async Task<(double Median, double P99)> MeasureRstAsync(int closedZones, bool linear)
{
    using var lab = EdgeLab.Create();
    var addresses = Enumerable.Range(0, closedZones).Select(Address).ToList();
    var probe = addresses[^1];
    if (linear)
    {
        var batch = new StringBuilder();
        batch.AppendLine("add table inet bench_linear");
        batch.AppendLine("add set inet bench_linear ports { type inet_service; elements = { 80, 8080, 8880, 2052, 2082, 2086, 2095 }; }");
        batch.AppendLine("add chain inet bench_linear input { type filter hook input priority filter - 10; policy accept; }");
        foreach (var address in addresses)
        {
            batch.AppendLine(CultureInfo.InvariantCulture, $"add rule inet bench_linear input meta l4proto tcp ip6 daddr {address} th dport @ports reject with tcp reset");
        }

        var nft = new NftCommand(lab.Edge.Name);
        var result = await nft.RunAsync(["-f", "-"], batch.ToString(), default);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(result.StandardError);
        }
    }
    else
    {
        using var dataplane = NewDataplane(lab.Edge.Name);
        await dataplane.ConvergeAsync(addresses.Select((a, i) => new ZoneEdgeState(ZoneId(i), 1, [a], true, null)), default);
    }

    // Warm up, then time each refused connect.
    for (var i = 0; i < 20; i++)
    {
        await RefusedConnectAsync(lab, probe);
    }

    var samples = new List<double>();
    for (var i = 0; i < Probes; i++)
    {
        samples.Add(await RefusedConnectAsync(lab, probe));
    }

    samples.Sort();
    return (Median(samples), samples[(int)(samples.Count * 0.99) - 1]);
}

static async Task<double> RefusedConnectAsync(EdgeLab lab, string address)
{
    var ip = IPAddress.Parse(address);
    using var socket = EdgeLab.InNamespace(lab.Client, () => new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
    var watch = Stopwatch.StartNew();
    try
    {
        await socket.ConnectAsync(ip, 80);
        throw new InvalidOperationException($"{address}:80 accepted a connection; it should be closed");
    }
    catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
    {
        return watch.Elapsed.TotalMicroseconds;
    }
}

static List<ZoneEdgeState> MakeZones(int count) =>
    Enumerable.Range(0, count).Select(i => new ZoneEdgeState(ZoneId(i), 1, [Address(i)], i % 2 == 0, null)).ToList();

static string Address(int i) => string.Create(CultureInfo.InvariantCulture, $"2001:db8:1::{(i + 0x10000) >> 16:x}:{(i + 0x10000) & 0xffff:x}");

static string ZoneId(int i) => i.ToString("x32", CultureInfo.InvariantCulture);

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

static EdgeDataplane NewDataplane(string networkNamespace)
{
    var agent = Options.Create(new AgentOptions { DataCenter = "bench", Namespace = networkNamespace });
    return new EdgeDataplane(new NftBackend(agent), agent, Options.Create(new NftablesOptions()), NullLogger<EdgeDataplane>.Instance);
}

static string Version()
{
    var nft = Process.Start(new ProcessStartInfo("nft", "--version") { RedirectStandardOutput = true })!;
    var text = nft.StandardOutput.ReadToEnd().Trim();
    nft.WaitForExit();
    return text;
}
