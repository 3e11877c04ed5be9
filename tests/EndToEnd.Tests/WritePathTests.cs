using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>The write path under load and faults: one unit of work, one change-log row per change, consumers that retry.</summary>
[Collection("propagation")]
public sealed class WritePathTests
{
    [Fact]
    public async Task TwoHundredConcurrentPatches_OverTwentyZones_GiveDenseOrderedRevisions_AndEveryDcConvergesToTheLastValue()
    {
        await using var lab = await PropagationLab.StartAsync("ams", "sjc", "sin");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zones = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            zones.Add((await PropagationLab.ZoneAsync(client, account)).Id);
        }

        await lab.WaitUntilConvergedAsync();
        await using var db = lab.Database.CreateContext();
        var before = await db.ChangeLog.MaxAsync(c => c.Revision);

        var random = new Random(7);
        var patches = Enumerable.Range(0, 200).Select(i => (Zone: zones[random.Next(zones.Count)], Value: random.Next(2) == 0 ? "on" : "off")).ToList();
        using var gate = new SemaphoreSlim(16);
        var responses = await Task.WhenAll(patches.Select(async patch =>
        {
            await gate.WaitAsync();
            try
            {
                return await client.PatchAsJsonAsync($"/client/v4/zones/{patch.Zone}/settings/disable_http_ports", new { value = patch.Value });
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        // Dense and gap-free: every revision after the start is there, once, in order.
        var rows = await db.ChangeLog.AsNoTracking().Where(c => c.Revision > before).OrderBy(c => c.Revision).ToListAsync();
        Assert.Equal(Enumerable.Range(1, rows.Count).Select(i => before + i), rows.Select(r => r.Revision));
        Assert.Equal(rows.Count, (int)(await db.RevisionSequencer.SingleAsync()).LastRevision - (int)before);

        // Each zone's last row is its committed state, at the zone's own revision.
        foreach (var zoneId in zones)
        {
            var zone = await db.Zones.AsNoTracking().SingleAsync(z => z.Id == zoneId);
            var last = rows.LastOrDefault(r => r.Zones.Any(z => z.ZoneId == zoneId));
            if (last is null)
            {
                continue; // every PATCH of this zone repeated its value: nothing for the edges
            }

            var state = last.Zones.Single(z => z.ZoneId == zoneId);
            Assert.Equal(zone.HttpPortsClosed, state.HttpPortsClosed);
            Assert.Equal(zone.Revision, last.Revision);
            Assert.Equal(last.Revision, state.Revision);
        }

        await lab.WaitUntilConvergedAsync(90);
        await lab.AssertKernelsMatchDatabaseAsync();
    }

    [Fact]
    public async Task AConsumerThatThrowsOnce_SucceedsOnRetry_AndCountsTheReportOnce()
    {
        await using var lab = await PropagationLab.StartAsync("ams");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);

        // A real fault in the real database: the first insert of a traffic report fails
        // (sequences are not transactional, so the retry sees the second value and passes).
        await using (var admin = new NpgsqlConnection(lab.Database.ConnectionString))
        {
            await admin.OpenAsync();
            await using var fault = new NpgsqlCommand("""
                CREATE SEQUENCE injected_fault;
                CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('injected_fault') = 1 THEN RAISE EXCEPTION 'injected fault: first traffic report refused'; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER fail_once BEFORE INSERT ON traffic_reports FOR EACH ROW EXECUTE FUNCTION fail_once();
                """, admin);
            await fault.ExecuteNonQueryAsync();
        }

        var report = new PlaintextTrafficCounted(Guid.NewGuid(), "ams", DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow,
            [new ZoneTraffic(zone.Id, 3, 2, 0, 0)]);
        await lab.Api.Services.GetRequiredService<IBus>().Publish(report);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement traffic;
        do
        {
            await Task.Delay(200);
            traffic = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/analytics/plaintext_http"));
        }
        while (traffic.GetProperty("totals").GetProperty("attempted").GetInt64() == 0 && DateTime.UtcNow < deadline);

        Assert.Equal(5, traffic.GetProperty("totals").GetProperty("attempted").GetInt64());
        await using var db = lab.Database.CreateContext();
        Assert.Equal(2, (await db.Database.SqlQuery<long>($"SELECT last_value AS \"Value\" FROM injected_fault").ToListAsync()).Single());
        Assert.Contains(lab.Api.Logs.Lines, l => l.Contains("injected fault", StringComparison.Ordinal));
    }
}
