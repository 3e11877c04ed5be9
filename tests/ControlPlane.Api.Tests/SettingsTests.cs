using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class SettingsTests(ApiFixture fixture)
{
    private async Task<(HttpClient Client, string ZoneId)> ZoneAsync()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Settings");
        var client = fixture.Api.As(token);
        var zone = await CreateZoneAsync(client, account, $"s{Guid.NewGuid():N}"[..12] + ".example.com");
        return (client, zone.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task DisableHttpPorts_GetPatch_RoundTrip_AndEachChangeAppendsItsChangeLogRow()
    {
        var (client, zoneId) = await ZoneAsync();
        using var _ = client;

        var initial = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports"));
        Assert.Equal(["id", "value", "editable", "modified_on", "rollout", "plaintext_connections_24h"], initial.GetProperty("result").EnumerateObject().Select(p => p.Name));
        Assert.Equal("off", initial.GetProperty("result").GetProperty("value").GetString());

        var on = await EnvelopeAssertions.AssertSuccessAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "on" }));
        Assert.Equal("on", on.GetProperty("result").GetProperty("value").GetString());

        var list = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings"));
        var setting = Assert.Single(list.GetProperty("result").EnumerateArray());
        Assert.Equal("on", setting.GetProperty("value").GetString());

        var zone = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}"));
        await using var db = fixture.Database.CreateContext();
        var row = await db.ChangeLog.SingleAsync(c => c.Revision == zone.GetProperty("revision").GetInt64());
        var state = Assert.Single(row.Zones);
        Assert.Equal(zoneId, state.ZoneId);
        Assert.True(state.HttpPortsClosed);
        Assert.Equal(2, state.Addresses.Count);
        Assert.Equal(row.Revision, state.Revision);
    }

    [Fact]
    public async Task BulkPatch_WithItems_AppliesTheSetting_AndIgnoresUnknownItemFields()
    {
        var (client, zoneId) = await ZoneAsync();
        using var _ = client;

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings",
            new { items = new[] { new { id = "disable_http_ports", value = "on", editable = true } } }));

        Assert.Equal("on", body.GetProperty("result")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task UnknownSetting_Is1006_AndBadValues_Are1007_AndChangeNothing()
    {
        var (client, zoneId) = await ZoneAsync();
        using var _ = client;
        await using var db = fixture.Database.CreateContext();
        var revisionsBefore = await db.ChangeLog.CountAsync();

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings/always_use_https"), HttpStatusCode.NotFound, 1006);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/always_use_https", new { value = "on" }), HttpStatusCode.NotFound, 1006);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings", new { items = new object[] { new { id = "disable_http_ports", value = "on" }, new { id = "nope", value = "on" } } }),
            HttpStatusCode.BadRequest, 1006);
        foreach (object value in new object[] { "maybe", 1, true, "ON" })
        {
            await EnvelopeAssertions.AssertFailureAsync(
                await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value }), HttpStatusCode.BadRequest, 1007);
        }

        var setting = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports"));
        Assert.Equal("off", setting.GetProperty("value").GetString());
        Assert.Equal(revisionsBefore, await db.ChangeLog.CountAsync());
    }
}
