using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class ChangeLogTests(ApiFixture fixture)
{
    [Fact]
    public async Task ConcurrentSettingChanges_GiveDenseRevisions_AndEachZonesLastRowIsItsFinalState()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Concurrency");
        using var client = fixture.Api.As(token);
        var zones = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            zones.Add((await CreateZoneAsync(client, account, $"c{i}-{Guid.NewGuid():N}"[..14] + ".example.com")).GetProperty("id").GetString()!);
        }

        // 50 changes, 5 per zone, alternating on/off, all at once; each one really changes the value
        // from the zone's previous one only in some interleavings, so the log must follow commits.
        var changes = Enumerable.Range(0, 50).Select(i => (Zone: zones[i % 10], Value: i / 10 % 2 == 0 ? "on" : "off")).ToList();
        var responses = await Task.WhenAll(changes.Select(async c =>
        {
            using var own = fixture.Api.As(token);
            return await own.PatchAsJsonAsync($"/client/v4/zones/{c.Zone}/settings/disable_http_ports", new { value = c.Value });
        }));
        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString()));

        await using var db = fixture.Database.CreateContext();
        var revisions = await db.ChangeLog.OrderBy(c => c.Revision).Select(c => c.Revision).ToListAsync();
        Assert.Equal(Enumerable.Range(1, revisions.Count).Select(r => (long)r), revisions);
        var sequencer = await db.RevisionSequencer.SingleAsync();
        Assert.Equal(revisions[^1], sequencer.LastRevision);

        var rows = await db.ChangeLog.OrderBy(c => c.Revision).ToListAsync();
        foreach (var zoneId in zones)
        {
            var final = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}"));
            var setting = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports"));
            var last = rows.Last(r => r.Zones.Any(z => z.ZoneId == zoneId));
            var state = last.Zones.Single(z => z.ZoneId == zoneId);
            Assert.Equal(setting.GetProperty("value").GetString() == "on", state.HttpPortsClosed);
            Assert.Equal(final.GetProperty("revision").GetInt64(), last.Revision);
            Assert.Equal(last.Revision, state.Revision);
        }
    }
}
