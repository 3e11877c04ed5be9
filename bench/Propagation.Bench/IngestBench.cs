using System.Diagnostics;
using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The time to ingest one analytics interval for 100,000 active zones from 3 DCs: 60
/// reports of 5000 zones (the agent's batch size) published to the real broker and
/// counted by the API's consumer into Postgres.
/// </summary>
internal static class IngestBench
{
    public static async Task<int> RunAsync(string output)
    {
        const int Zones = 100_000;
        string[] dataCenters = ["ams", "sjc", "sin"];
        await using var lab = await PropagationLab.StartAsync(new Dictionary<string, string?>());
        using (var op = lab.Customers.Operator())
        {
            foreach (var dc in dataCenters)
            {
                (await op.PostAsync("/operator/v1/data_centers", System.Net.Http.Json.JsonContent.Create(new { code = dc, name = dc }))).EnsureSuccessStatusCode();
            }
        }

        var ids = Enumerable.Range(0, Zones).Select(i => i.ToString("x32", CultureInfo.InvariantCulture)).ToList();
        var bus = lab.Api.Services.GetRequiredService<IBus>();
        var end = DateTimeOffset.UtcNow;
        var reports = dataCenters.SelectMany(dc => ids.Chunk(5000).Select(chunk =>
            new PlaintextTrafficCounted(Guid.NewGuid(), dc, end.AddMinutes(-1), end, chunk.Select(z => new ZoneTraffic(z, 3, 1, 1, 0)).ToList()))).ToList();

        var watch = Stopwatch.StartNew();
        foreach (var report in reports)
        {
            await bus.Publish(report);
        }

        var published = watch.Elapsed;
        await using var db = lab.Database.CreateContext();
        while (await db.TrafficReports.CountAsync() < reports.Count)
        {
            await Task.Delay(20);
        }

        watch.Stop();
        var rows = await db.TrafficMinutes.CountAsync();
        var text = string.Create(CultureInfo.InvariantCulture, $"""
            # Analytics ingestion

            One interval for {Zones:N0} active zones from {dataCenters.Length} DCs: {reports.Count} reports of 5000 zones
            (the agent's batch size) published to the test RabbitMQ and counted by the API's consumer into
            minute and hour buckets ({rows:N0} minute rows). Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on
            {Environment.ProcessorCount} cores by `scripts/bench-propagation ingest`.

            | publishing | until every report is counted | zones × DCs per second |
            | ---: | ---: | ---: |
            | {published.TotalSeconds:F2} s | {watch.Elapsed.TotalSeconds:F2} s | {Zones * dataCenters.Length / watch.Elapsed.TotalSeconds:N0} |

            Each report is one SQL statement (report id, minute upsert and hour upsert over `unnest` arrays).
            """);
        Console.WriteLine(text);
        await File.WriteAllTextAsync(output, text + Environment.NewLine);
        return 0;
    }
}
