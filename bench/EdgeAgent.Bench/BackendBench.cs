using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ControlPlane.Testing;
using EdgeAgent;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Options;

/// <summary>
/// The two kernel paths side by side (<c>scripts/bench backends [output.md]</c>): the nft binary
/// per call (<see cref="NftBackend"/>) and libnftables in-process (<see cref="LibNftablesBackend"/>),
/// in one namespace holding sets of 100,000 IPv4 addresses. Times are wall-clock per call, in
/// milliseconds, as the caller of <see cref="INftBackend"/> sees them.
/// </summary>
internal static class BackendBench
{
    private const int Elements = 100_000;
    private const string TableName = "bench_backends";
    private const string Changed = "198.51.100.1";

    // Fast calls get enough samples for a p99 that is not simply the maximum; the calls that
    // read 100k elements (a second or more each) get the minimum asked for.
    private const int FastIterations = 200;
    private const int SlowIterations = 50;
    private const int WarmUp = 3;

    public static async Task RunAsync(string[] args)
    {
        var output = args.FirstOrDefault() ?? Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks-backends.md");
        var loadBefore = LoadAverage();
        var rows = new List<Row>();

        // The hash sets: what (a) to (d) ask for.
        using (var ns = NetworkNamespace.Create())
        {
            var agent = Options.Create(new AgentOptions { DataCenter = "bench", Namespace = ns.Name });
            var nft = new NftBackend(agent);
            using var lib = new LibNftablesBackend(agent);
            await FillAsync(lib, ns, ("plain", ""), ("counted", " counter;"));

            foreach (var set in new[] { "plain", "counted" })
            {
                var (viaNft, viaLib) = await SideBySideAsync(FastIterations, () => nft.ApplyAsync(ChangeBatch(set), default), () => lib.ApplyAsync(ChangeBatch(set), default));
                rows.Add(new("a / b", $"one change: `add element` + `delete element` batch, {Describe(set)}", viaNft, viaLib));
            }

            // Reads: the nft binary's listing against the netlink dump both backends now use.
            string? lastListing = null;
            var counted = new AddressSet("counted", SetRole.Attempted, IsV6: false, Interval: false);
            var dumped = 0;
            var cli = new NftCommand(ns.Name);
            var (listNft, listLib) = await SideBySideAsync(
                SlowIterations,
                async () => lastListing = (await cli.RunAsync(["-j", "list", "set", "inet", TableName, "counted"], null, default)).StandardOutput,
                async () => dumped = (await lib.ReadSetAsync(TableName, counted, default)).Count);
            rows.Add(new("c", $"read the {Elements:N0}-element counter set: `nft -j list set` (left) vs the agent's netlink dump, `ReadSetAsync` (right)", listNft, listLib, SameCall: false));

            var (checkNft, checkLib) = await SideBySideAsync(
                SlowIterations,
                async () => Require(await nft.CheckAsync(default)),
                async () => Require(await lib.CheckAsync(default)));
            rows.Add(new("d", "floor: `nft list tables` through the CLI (`NftBackend.CheckAsync`); beside it, libnftables' own readiness probe, `list chains`", checkNft, checkLib, SameCall: false));

            // Each change batch added and deleted the same element, so the table must be as filled.
            var plainHasChanged = NetworkNamespace.Run("ip", "netns", "exec", ns.Name, "nft", "list", "set", "inet", TableName, "plain").Contains(Changed, StringComparison.Ordinal);
            if (CountElements(lastListing!) != Elements || dumped != Elements || plainHasChanged)
            {
                throw new InvalidOperationException($"the table changed during the run: {CountElements(lastListing!)} counted elements, {Changed} present: {plainHasChanged}");
            }
        }

        // The shape the agent's table has today, in a namespace of its own: nft 1.0.6 reads the
        // elements of every interval set in the table for any element command.
        using (var ns = NetworkNamespace.Create())
        {
            var agent = Options.Create(new AgentOptions { DataCenter = "bench", Namespace = ns.Name });
            var nft = new NftBackend(agent);
            using var lib = new LibNftablesBackend(agent);
            await FillAsync(lib, ns, ("ranged", " flags interval;"));
            var (viaNft, viaLib) = await SideBySideAsync(SlowIterations, () => nft.ApplyAsync(ChangeBatch("ranged"), default), () => lib.ApplyAsync(ChangeBatch("ranged"), default));
            rows.Add(new("extra", $"one change as above, {Describe("ranged")} alone in its table", viaNft, viaLib));
        }

        var report = new StringBuilder();
        void Say(string line)
        {
            Console.WriteLine(line);
            report.AppendLine(line);
        }

        var plain = rows[0];
        Say("# Kernel access: libnftables in-process vs the nft binary");
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {NetworkNamespace.Run("nft", "--version").Trim()}, libnftables1 {PackageVersion("libnftables1")}; load average {loadBefore} before, {LoadAverage()} after (the machine is shared). Produced by `scripts/bench backends`."));
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture, $"A namespace holds `table inet {TableName}` with two sets of {Elements:N0} addresses from 198.18.0.0/15 (the benchmarking range) each: `plain` (`type ipv4_addr`, a hash set) and `counted` (the same with `counter`). A change batch adds {Changed} and deletes it again, so every call finds the same table. ")
            + "**nft** is `NftBackend`: `ip netns exec NS nft -f -` (or `nft -j list …`), a process per call. **libnftables** is `LibNftablesBackend`: one libnftables context on one thread inside the namespace, no process per call (nft 1.0.6 still refreshes its cache of tables, chains and sets on every call, in-process too).");
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture, $"The two paths run alternately, call by call, after {WarmUp} warm-up calls each. Milliseconds per call as the caller of `INftBackend` awaits it; p99 by nearest rank over {FastIterations} calls per path for the hash-set changes and {SlowIterations} for the rest (where p99 is the slowest call)."));
        Say("");
        Say("| | call | nft median | nft p99 | libnftables median | libnftables p99 | libnftables / nft (median) |");
        Say("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            Say(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Label} | {row.Call} | {Ms(row.Nft.Median)} | {Ms(row.Nft.P99)} | {Ms(row.Lib.Median)} | {Ms(row.Lib.P99)} | {(row.SameCall ? (row.Lib.Median / row.Nft.Median).ToString("F3", CultureInfo.InvariantCulture) : "—")} |"));
        }

        Say("");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"(b)/(a), one change to the {Elements:N0}-element hash set: median {plain.Lib.Median / plain.Nft.Median:F3} ({Ms(plain.Lib.Median)} ms vs {Ms(plain.Nft.Median)} ms), p99 {plain.Lib.P99 / plain.Nft.P99:F3} ({Ms(plain.Lib.P99)} ms vs {Ms(plain.Nft.P99)} ms). The goal is 5 ms per change."));
        Say("");
        Say("The extra row is the agent's table as it is today (`flags interval` sets); see docs/dataplane.md, \"Kernel access: libnftables vs nft -f\", for what the figures mean for the agent.");
        await File.WriteAllTextAsync(output, report.ToString());
        Console.WriteLine($"\nwritten to {output}");
    }

    private static async Task FillAsync(LibNftablesBackend lib, NetworkNamespace ns, params (string Name, string Flags)[] sets)
    {
        var batch = new StringBuilder();
        batch.AppendLine(CultureInfo.InvariantCulture, $"add table inet {TableName}");
        var addresses = Enumerable.Range(0, Elements).Select(Address).ToList();
        foreach (var (name, flags) in sets)
        {
            batch.AppendLine(CultureInfo.InvariantCulture, $"add set inet {TableName} {name} {{ type ipv4_addr;{flags} }}");
            foreach (var chunk in addresses.Chunk(10_000))
            {
                batch.AppendLine(CultureInfo.InvariantCulture, $"add element inet {TableName} {name} {{ {string.Join(", ", chunk)} }}");
            }
        }

        var watch = Stopwatch.StartNew();
        await lib.ApplyAsync(batch.ToString(), default);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled {TableName} in {ns.Name}: {string.Join(", ", sets.Select(s => s.Name))}, {Elements:N0} elements each, in {watch.Elapsed.TotalSeconds:F1} s"));
    }

    private static string ChangeBatch(string set) =>
        $"add element inet {TableName} {set} {{ {Changed} }}\ndelete element inet {TableName} {set} {{ {Changed} }}\n";

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    // SameCall is false when the two paths run different commands, so a ratio means nothing.
    private sealed record Row(string Label, string Call, Stats Nft, Stats Lib, bool SameCall = true);

    private sealed record Stats(double Median, double P99);

    private static string Describe(string set) => set switch
    {
        "plain" => $"hash set of {Elements:N0}",
        "counted" => $"hash set of {Elements:N0} with `counter`",
        _ => $"`flags interval` set of {Elements:N0}",
    };

    /// <summary>Runs both, alternating call by call, so drift in the machine affects both alike.</summary>
    private static async Task<(Stats Nft, Stats Lib)> SideBySideAsync(int iterations, Func<Task> viaNft, Func<Task> viaLib)
    {
        for (var i = 0; i < WarmUp; i++)
        {
            await viaNft();
            await viaLib();
        }

        var nft = new List<double>(iterations);
        var lib = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            nft.Add(await TimeAsync(viaNft));
            lib.Add(await TimeAsync(viaLib));
            if ((i + 1) % 25 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1}/{iterations}: nft {nft[^1]:F2} ms, libnftables {lib[^1]:F2} ms"));
            }
        }

        return (Summarise(nft), Summarise(lib));
    }

    private static async Task<double> TimeAsync(Func<Task> call)
    {
        var watch = Stopwatch.StartNew();
        await call();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static Stats Summarise(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        var rank = (int)Math.Ceiling(0.99 * sorted.Count);
        return new(sorted[(sorted.Count - 1) / 2], sorted[rank - 1]);
    }

    /// <summary>The i-th address of 198.18.0.0/15, the range set aside for benchmarks (RFC 2544).</summary>
    private static string Address(int i) => string.Create(CultureInfo.InvariantCulture, $"198.{18 + (i >> 16)}.{(i >> 8) & 0xff}.{i & 0xff}");

    private static int CountElements(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(item => item.TryGetProperty("set", out _))
            .Sum(item => item.GetProperty("set").GetProperty("elem").GetArrayLength());
    }

    private static void Require(DataplaneHealth health)
    {
        if (!health.Ready)
        {
            throw new InvalidOperationException(health.Reason);
        }
    }

    private static string PackageVersion(string package) =>
        NetworkNamespace.Run("dpkg-query", "-W", "-f=${Version}", package).Trim();

    private static string Ms(double milliseconds) =>
        milliseconds.ToString(milliseconds < 10 ? "F2" : milliseconds < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);
}
