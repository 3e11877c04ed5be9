using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>Plaintext traffic counted by the agents' nft counters, stored per DC and minute, shown to customers.</summary>
[Collection("propagation")]
public sealed class AnalyticsTests
{
    [Fact]
    public async Task PlaintextConnections_AreCountedPerDc_AsAttemptedThenBlocked_AndThePreviewWarns()
    {
        await using var lab = await PropagationLab.StartAsync("ams", "sjc", "sin");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await lab.WaitUntilConvergedAsync();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 80));
        }

        Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V6, 8080));
        Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 8080));
        var open = await WaitForAsync(client, zone.Id, a => Count(a, "ams", "attempted") == 7);
        Assert.Equal(0, Count(open, "ams", "blocked"));
        Assert.Equal(0, Count(open, "sjc", "attempted") + Count(open, "sin", "attempted"));

        var setting = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports"));
        Assert.Equal(7, setting.GetProperty("plaintext_connections_24h").GetInt64());

        // A dry run previews and changes nothing: no change-log row, no audit entry, still off.
        await using (var db = lab.Database.CreateContext())
        {
            var revisions = await db.ChangeLog.CountAsync();
            var audits = await db.AuditLogs.IgnoreQueryFilters().CountAsync();
            var dry = await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports?dry_run=true", new { value = "on" });
            var body = JsonDocument.Parse(await dry.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("on", body.GetProperty("result").GetProperty("value").GetString());
            Assert.Contains("7 plaintext HTTP connection attempts", body.GetProperty("messages")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(revisions, await db.ChangeLog.CountAsync());
            Assert.Equal(audits, await db.AuditLogs.IgnoreQueryFilters().CountAsync());
            Assert.Equal("off", (await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports"))).GetProperty("value").GetString());
        }

        var patched = JsonDocument.Parse(await (await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" })).Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("7 plaintext HTTP connection attempts in the last 24 hours will now be refused", patched.GetProperty("messages")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports/rollout?wait=30"));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SocketError.ConnectionRefused, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 80));
        }

        var closed = await WaitForAsync(client, zone.Id, a => Count(a, "ams", "blocked") == 3);
        Assert.Equal(10, Count(closed, "ams", "attempted"));
        Assert.Equal(10, closed.GetProperty("totals").GetProperty("attempted").GetInt64());
        Assert.Equal(3, closed.GetProperty("totals").GetProperty("blocked").GetInt64());
    }

    [Fact]
    public async Task Preview_IsSilent_ForAZoneWithoutTraffic_AndARedeliveredReportCountsOnce()
    {
        await using var lab = await PropagationLab.StartAsync("ams");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var quiet = await PropagationLab.ZoneAsync(client, account);
        var counted = await PropagationLab.ZoneAsync(client, account);

        var patched = JsonDocument.Parse(await (await client.PatchAsJsonAsync($"/client/v4/zones/{quiet.Id}/settings/disable_http_ports", new { value = "on" })).Content.ReadAsStringAsync()).RootElement;
        Assert.True(patched.GetProperty("success").GetBoolean());
        Assert.Equal(0, patched.GetProperty("messages").GetArrayLength());

        var report = new PlaintextTrafficCounted(Guid.NewGuid(), "ams", DateTimeOffset.UtcNow.AddSeconds(-1), DateTimeOffset.UtcNow,
            [new ZoneTraffic(counted.Id, 4, 1, 0, 0)]);
        var bus = lab.Api.Services.GetRequiredService<IBus>();
        await bus.Publish(report);
        await bus.Publish(report);
        await WaitForAsync(client, counted.Id, a => Count(a, "ams", "attempted") >= 5);
        await Task.Delay(1500);

        var traffic = await ResultAsync(await client.GetAsync($"/client/v4/zones/{counted.Id}/analytics/plaintext_http"));
        Assert.Equal(5, Count(traffic, "ams", "attempted"));
    }

    private static long Count(JsonElement analytics, string dc, string field) =>
        analytics.GetProperty("data_centers").EnumerateArray().Where(d => d.GetProperty("data_center").GetString() == dc).Sum(d => d.GetProperty(field).GetInt64());

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string zoneId, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/analytics/plaintext_http?granularity=minute"));
            if (done(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("analytics never reached the expected counts: " + last.GetRawText());
    }
}
