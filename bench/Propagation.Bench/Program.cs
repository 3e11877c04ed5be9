using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using ControlPlane.Testing;
using static ControlPlane.Testing.CustomerApiClient;

// Usage: Propagation.Bench <agents...> [--out file]; e.g. "3 20".
//        Propagation.Bench ingest [--out file]: analytics ingestion of 100k zones from 3 DCs.
if (args.FirstOrDefault() == "ingest")
{
    return await IngestBench.RunAsync(args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault()
        ?? Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks-analytics.md"));
}

var output = Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks-propagation.md");
var fleetSizes = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).DefaultIfEmpty(3).ToList();
const int Changes = 200;
var report = new StringBuilder();
void Say(string line)
{
    Console.WriteLine(line);
    report.AppendLine(line);
}

Say("# Propagation benchmarks");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores by `scripts/bench-propagation`."));
Say("The real API (in-process Kestrel, HTTPS), the test Postgres and RabbitMQ, and one real agent process per DC, each programming its own network namespace. Nothing here is asserted.");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Propagation is the time from a PATCH's response to the last DC reporting `applied` (the client polls the rollout view every 5 ms). {Changes} sequential changes, alternating on/off over 10 zones."));
Say("");
Say("| DCs | p50 | p90 | p99 | max | dispatcher publish rate |");
Say("| ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var size in fleetSizes)
{
    var dcs = Enumerable.Range(1, size).Select(i => $"dc{i:D2}").ToArray();
    await using var lab = await PropagationLab.StartAsync(new Dictionary<string, string?> { ["RateLimit:Capacity"] = "1000000" }, dcs);
    var (account, client) = await lab.TenantAsync();
    using var _ = client;
    var zones = new List<string>();
    for (var i = 0; i < 10; i++)
    {
        zones.Add((await CreateZoneAsync(client, account, $"bench{i}-{Guid.NewGuid():N}"[..20] + ".example.com")).GetProperty("id").GetString()!);
    }

    await lab.WaitUntilConvergedAsync();
    var samples = new List<double>();
    for (var i = 0; i < Changes; i++)
    {
        var zone = zones[i % 10];
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone}/settings/disable_http_ports", new { value = i / 10 % 2 == 0 ? "on" : "off" }));
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var rollout = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone}/settings/disable_http_ports/rollout"));
            if (rollout.GetProperty("summary").GetProperty("applied").GetInt32() == size)
            {
                break;
            }

            await Task.Delay(5);
        }

        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    // Publish rate: changes pile up in the log while the broker is away, then drain.
    lab.Rabbit.Cut();
    const int Backlog = 1000;
    for (var i = 0; i < Backlog; i++)
    {
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zones[i % 10]}/settings/disable_http_ports", new { value = i / 10 % 2 == 0 ? "off" : "on" }));
    }

    using var op = lab.Customers.Operator();
    var backlogStart = (await ResultAsync(await op.GetAsync("/operator/v1/data_centers/status"))).GetProperty("published_revision").GetInt64();
    lab.Rabbit.Restore();
    Stopwatch? drain = null;
    long published;
    long latest;
    do
    {
        await Task.Delay(20);
        var fleet = await ResultAsync(await op.GetAsync("/operator/v1/data_centers/status"));
        published = fleet.GetProperty("published_revision").GetInt64();
        latest = fleet.GetProperty("latest_revision").GetInt64();
        if (drain is null && published > backlogStart)
        {
            drain = Stopwatch.StartNew();
            backlogStart = published;
        }
    }
    while (published < latest);

    var rate = (latest - backlogStart) / Math.Max(0.001, drain?.Elapsed.TotalSeconds ?? 0.001);
    samples.Sort();
    string P(double q) => samples[Math.Min(samples.Count - 1, (int)(q * samples.Count))].ToString("F0", CultureInfo.InvariantCulture);
    Say(string.Create(CultureInfo.InvariantCulture, $"| {size} | {P(0.5)} ms | {P(0.9)} ms | {P(0.99)} ms | {samples[^1]:F0} ms | {rate:F0} changes/s |"));
}

Say("");
Say("The publish rate is measured while a backlog of 1000 changes (made while the broker was cut off) drains: one publish with a broker confirm per change, marked published 200 at a time.");
var target = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? output;
await File.WriteAllTextAsync(target, report.ToString());
Console.WriteLine($"\nwritten to {target}");
return 0;
