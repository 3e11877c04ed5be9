using System.Diagnostics;
using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

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

        // Each DC's agent publishes its own reports one after another; the three DCs publish at once.
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(reports.GroupBy(r => r.DataCenter).Select(async fromOneDc =>
        {
            foreach (var report in fromOneDc)
            {
                await bus.Publish(report);
            }
        }));

        var published = watch.Elapsed;
        await using var db = lab.Database.CreateContext();
        while (await db.TrafficReports.CountAsync() < reports.Count)
        {
            await Task.Delay(20);
        }

        watch.Stop();
        var rows = await db.TrafficMinutes.CountAsync();

        // The baseline: the same 300,000 minute rows written with a bare binary COPY into an
        // empty table of the same shape, in the same database, in the same run.
        var copy = await CopyBaselineAsync(lab.Database.ConnectionString, reports, end.UtcDateTime);
        var text = string.Create(CultureInfo.InvariantCulture, $"""
            # Analytics ingestion

            One interval for {Zones:N0} active zones from {dataCenters.Length} DCs: {reports.Count} reports of 5000 zones
            (the agent's batch size), each DC publishing its own in turn and the three DCs at once, to the test
            RabbitMQ, counted by the API's consumer into minute and hour buckets ({rows:N0} minute rows). Run
            {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores by `scripts/bench-propagation ingest`.

            | | time | zones × DCs per second |
            | --- | ---: | ---: |
            | baseline: bare binary `COPY` of the {rows:N0} minute rows into an empty table | {copy.TotalSeconds:F2} s | {Zones * dataCenters.Length / copy.TotalSeconds:N0} |
            | the project: publishing done | {published.TotalSeconds:F2} s | |
            | the project: every report counted (minute and hour buckets, report ids) | {watch.Elapsed.TotalSeconds:F2} s | {Zones * dataCenters.Length / watch.Elapsed.TotalSeconds:N0} |
            | ratio (project / baseline) | {watch.Elapsed.TotalSeconds / copy.TotalSeconds:F1} | |

            Goal: ≤ 2 s for the interval. Before: 3.73 s (publishing 3.57 s, one report after another from a
            single publisher). Each report is one SQL statement (report id, minute upsert and hour upsert over
            `unnest` arrays); most of the time is MassTransit serialising and confirming the 60 messages of
            about 0.4 MB each.
            """);
        Console.WriteLine(text);
        await File.WriteAllTextAsync(output, text + Environment.NewLine);
        return 0;
    }

    private static async Task<TimeSpan> CopyBaselineAsync(string connectionString, List<PlaintextTrafficCounted> reports, DateTime end)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE copy_baseline (LIKE traffic_minutes INCLUDING ALL)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var minute = new DateTime(end.Year, end.Month, end.Day, end.Hour, end.Minute, 0, DateTimeKind.Utc);
        var watch = Stopwatch.StartNew();
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY copy_baseline (zone_id, data_center, start, attempted_v4, attempted_v6, blocked_v4, blocked_v6) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var report in reports)
            {
                foreach (var zone in report.Zones)
                {
                    await import.StartRowAsync();
                    await import.WriteAsync(zone.ZoneId, NpgsqlTypes.NpgsqlDbType.Varchar);
                    await import.WriteAsync(report.DataCenter, NpgsqlTypes.NpgsqlDbType.Varchar);
                    await import.WriteAsync(minute, NpgsqlTypes.NpgsqlDbType.TimestampTz);
                    await import.WriteAsync(zone.AttemptedV4, NpgsqlTypes.NpgsqlDbType.Bigint);
                    await import.WriteAsync(zone.AttemptedV6, NpgsqlTypes.NpgsqlDbType.Bigint);
                    await import.WriteAsync(zone.BlockedV4, NpgsqlTypes.NpgsqlDbType.Bigint);
                    await import.WriteAsync(zone.BlockedV6, NpgsqlTypes.NpgsqlDbType.Bigint);
                }
            }

            await import.CompleteAsync();
        }

        return watch.Elapsed;
    }
}
