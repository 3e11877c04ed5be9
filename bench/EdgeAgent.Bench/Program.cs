using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using EdgeAgent;
using EdgeAgent.Dataplane;
using EdgeAgent.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Dataplane benchmarks, in a lab of network namespaces made and removed here.
// Usage: dotnet EdgeAgent.Bench.dll [--no-rst] [output.md]
//        dotnet EdgeAgent.Bench.dll backends [output.md]: nft binary vs libnftables (BackendBench.cs).
if (args.FirstOrDefault() == "backends")
{
    await BackendBench.RunAsync(args[1..]);
    return;
}

// --no-rst skips the slow time-to-RST section (a quick look while developing; not for docs/).
var skipRst = args.Contains("--no-rst");
var output = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks.md");
var report = new StringBuilder();
void Say(string line)
{
    Console.WriteLine(line);
    report.AppendLine(line);
}

int[] sizes = [1_000, 10_000, 100_000];
const int Probes = 1_000;

Say("# Dataplane benchmarks");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {Version()}."));
Say("Each zone has one IPv6 address in 2001:db8:1::/64; half the zones are closed. Produced by `scripts/bench`; the table layout is in [dataplane.md](dataplane.md).");
Say("");
Say("## Converge and change");
Say("");
Say("A change is one zone closed or opened through `IDataplane.ApplyAsync`. The baseline is a raw `nft -f` of the same one-line batch in the same namespace, in the same run.");
Say("");
Say("| zones | converge from empty | one change (median of 20) | raw `nft -f` of that batch (median of 20) | change / raw | lines in the change batch |");
Say("| ---: | ---: | ---: | ---: | ---: | ---: |");
var changeMedians = new Dictionary<int, double>();
foreach (var size in sizes)
{
    using var ns = NetworkNamespace.Create();
    using var dataplane = NewDataplane(ns.Name);
    var zones = MakeZones(size);
    var converge = Stopwatch.StartNew();
    await dataplane.ConvergeAsync(zones, default);
    converge.Stop();

    var changes = new List<double>();
    var raw = new List<double>();
    var nft = new NftCommand(ns.Name);
    var lines = 0;
    for (var i = 0; i < 20; i++)
    {
        var at = i * 37 % size;
        var changed = zones[at] with { Revision = 2 + i, HttpPortsClosed = !zones[at].HttpPortsClosed };
        zones[at] = changed;
        var change = Stopwatch.StartNew();
        await dataplane.ApplyAsync([changed], default);
        changes.Add(change.Elapsed.TotalMilliseconds);
        lines = dataplane.LastBatch!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

        // The same batch, undone and redone by raw nft: the floor any agent on this path pays.
        var undo = dataplane.LastBatch!.StartsWith("add", StringComparison.Ordinal)
            ? "delete" + dataplane.LastBatch["add".Length..]
            : "add" + dataplane.LastBatch["delete".Length..];
        await Nft(nft, undo);
        var rawChange = Stopwatch.StartNew();
        await Nft(nft, dataplane.LastBatch);
        raw.Add(rawChange.Elapsed.TotalMilliseconds);
    }

    changeMedians[size] = Median(changes);
    Say(string.Create(CultureInfo.InvariantCulture, $"| {size:N0} | {converge.Elapsed.TotalMilliseconds:F0} ms | {Median(changes):F1} ms | {Median(raw):F1} ms | {Median(changes) / Median(raw):F2} | {lines} |"));
}

Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"One change at 100k / at 1k: **{changeMedians[100_000] / changeMedians[1_000]:F2}** (goal ≤ 2). Goal at 100k: ≤ 5 ms."));
Say("");
await AtScaleAsync(100_000);
Say("");
Say("## Time to a client's RST: nftables sets vs one rule per address");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"A client in its own namespace connects {Probes} times to port 80 of a closed address (the last one added) and times each refused connect.")
    + " The linear variant is the iptables-per-block approach written in nft: one `ip6 daddr X tcp dport @ports reject` rule per closed address, probed address last.");
Say("");
Say("| closed zones | sets: median | sets: p99 | linear: median | linear: p99 | linear / sets (median) |");
Say("| ---: | ---: | ---: | ---: | ---: | ---: |");
var rstMedians = new Dictionary<int, double>();
foreach (var closed in skipRst ? [] : new[] { 1, 100_000 })
{
    var (setMedian, setP99) = await MeasureRstAsync(closed, linear: false);
    var (linMedian, linP99) = await MeasureRstAsync(closed, linear: true);
    rstMedians[closed] = setMedian;
    Say(string.Create(CultureInfo.InvariantCulture, $"| {closed:N0} | {setMedian:F1} µs | {setP99:F1} µs | {linMedian:F1} µs | {linP99:F1} µs | {linMedian / setMedian:F2} |"));
}

Say("");
Say(skipRst ? "(skipped: --no-rst)" : string.Create(CultureInfo.InvariantCulture, $"Sets, 100k closed / 1 closed (median): **{rstMedians[100_000] / rstMedians[1]:F2}** (goal ≤ 1.1). Each figure is the best median (and its run's p99) of 3 runs."));

Say("");
Say("## Other benchmarks");
Say("");
Say("- Kernel access, libnftables vs the nft binary: [benchmarks-backends.md](benchmarks-backends.md) (`scripts/bench backends`).");
Say("- API latency: [benchmarks-api.md](benchmarks-api.md) (`scripts/bench-api`).");
Say("- Propagation latency and dispatch rate: [benchmarks-propagation.md](benchmarks-propagation.md) (`scripts/bench-propagation 3 20`).");
Say("- Analytics ingestion: [benchmarks-analytics.md](benchmarks-analytics.md) (`scripts/bench-propagation ingest`).");
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine($"\nwritten to {output}");

// Best of three runs: the machine is noisy, and the floor is what the table costs.
static async Task<(double Median, double P99)> MeasureRstAsync(int closedZones, bool linear)
{
    var runs = new List<(double Median, double P99)>();
    for (var run = 0; run < 3; run++)
    {
        runs.Add(await MeasureRstOnceAsync(closedZones, linear));
    }

    return runs.MinBy(r => r.Median);
}

static async Task<(double Median, double P99)> MeasureRstOnceAsync(int closedZones, bool linear)
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

// At 100k zones: a burst, the counter read, drift, and memory.
async Task AtScaleAsync(int size)
{
    Say(string.Create(CultureInfo.InvariantCulture, $"## At {size:N0} zones"));
    Say("");
    Say("| measure | figure | goal |");
    Say("| --- | ---: | ---: |");
    using var ns = NetworkNamespace.Create();
    using var dataplane = NewDataplane(ns.Name);
    var zones = MakeZones(size);
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    await dataplane.ConvergeAsync(zones, default);
    var peak = PeakResidentMegabytes();

    var burst = zones.Take(1_000).Select(z => z with { Revision = 2, HttpPortsClosed = !z.HttpPortsClosed }).ToList();
    var apply = Stopwatch.StartNew();
    await dataplane.ApplyAsync(burst, default);
    Say(string.Create(CultureInfo.InvariantCulture, $"| 1,000 changes arriving together, until applied | {apply.Elapsed.TotalMilliseconds:F0} ms | ≤ 1,000 ms |"));

    var reads = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        var read = Stopwatch.StartNew();
        await dataplane.ReadCountersAsync(default);
        reads.Add(read.Elapsed.TotalMilliseconds);
    }

    Say(string.Create(CultureInfo.InvariantCulture, $"| counter read (median of 5) | {Median(reads):F0} ms | ≤ 250 ms |"));

    var fullReads = new List<double>();
    for (var i = 0; i < 3; i++)
    {
        var check = Stopwatch.StartNew();
        await dataplane.RepairDriftAsync(default);
        fullReads.Add(check.Elapsed.TotalMilliseconds);
    }

    Say(string.Create(CultureInfo.InvariantCulture, $"| drift: fallback full read and diff, nothing to repair (median of 3) | {Median(fullReads):F0} ms | ≤ 250 ms |"));

    var nft = new NftCommand(ns.Name);
    var victim = zones.First(z => z.HttpPortsClosed && burst.All(b => b.ZoneId != z.ZoneId));
    await Nft(nft, $"delete element inet edge_http_guard closed_v6 {{ {victim.Addresses![0]} }}");
    var repair = Stopwatch.StartNew();
    var repaired = await dataplane.RepairDriftAsync(default);
    Say(string.Create(CultureInfo.InvariantCulture, $"| drift: foreign deletion to repaired table, once the check runs ({(repaired ? "repaired" : "NOT repaired")}) | {repair.Elapsed.TotalMilliseconds:F0} ms | |"));

    var held = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1024.0 / 1024.0;
    Say(string.Create(CultureInfo.InvariantCulture, $"| managed memory the dataplane holds, steady (heap after − before converge) | {held:F0} MB | ≤ 150 MB (whole agent) |"));
    Say(string.Create(CultureInfo.InvariantCulture, $"| resident memory of the whole benchmark process: steady / peak | {ResidentMegabytes():F0} MB / {peak:F0} MB | |"));
}

static double ResidentMegabytes() => Environment.WorkingSet / 1024.0 / 1024.0;

static double PeakResidentMegabytes()
{
    var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
}

static async Task Nft(NftCommand nft, string batch)
{
    var result = await nft.RunAsync(["-f", "-"], batch, default);
    if (!result.Succeeded)
    {
        throw new InvalidOperationException(result.StandardError);
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
    // The agent's default backend; the bench process ends with it, so it is not disposed.
    // Instruments without a listener, as in an agent whose Agent:Metrics:Port is 0.
    var metrics = new AgentMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
    return new EdgeDataplane(new LibNftablesBackend(agent), metrics, agent, Options.Create(new NftablesOptions()), NullLogger<EdgeDataplane>.Instance);
}

static string Version()
{
    var nft = Process.Start(new ProcessStartInfo("nft", "--version") { RedirectStandardOutput = true })!;
    var text = nft.StandardOutput.ReadToEnd().Trim();
    nft.WaitForExit();
    return text;
}
