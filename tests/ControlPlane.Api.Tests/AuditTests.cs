using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class AuditTests(ApiFixture fixture)
{
    [Fact]
    public async Task AFailedOrDeniedWrite_LeavesOneAuditEntryWithResultFalse_AndNoOtherChange()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Failing");
        using var client = fixture.Api.As(token);
        var zoneId = (await CreateZoneAsync(client, account, $"f{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        var readOnly = await IssueTokenAsync(client, $"/client/v4/accounts/{account}/tokens", account, [ZoneRead, SettingsRead]);
        using var readOnlyClient = fixture.Api.As(readOnly);
        await using var db = fixture.Database.CreateContext();
        var revisions = await db.ChangeLog.CountAsync();
        var audits = await db.AuditLogs.CountAsync(a => a.AccountId == account);

        await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "maybe" }), HttpStatusCode.BadRequest, 1007);
        await EnvelopeAssertions.AssertFailureAsync(
            await readOnlyClient.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "on" }), HttpStatusCode.Forbidden, 10000);

        var failures = await db.AuditLogs.Where(a => a.AccountId == account).OrderBy(a => a.When).Skip(audits).ToListAsync();
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.Equal(("zone.settings.update", false, zoneId), (f.ActionType, f.ActionResult, f.ResourceId)));
        Assert.Equal([1007, 10000], failures.Select(f => f.Metadata!.RootElement.GetProperty("error").GetProperty("code").GetInt32()));
        Assert.Equal(revisions, await db.ChangeLog.CountAsync());
        Assert.False((await db.Zones.SingleAsync(z => z.Id == zoneId)).HttpPortsClosed);
    }

    [Fact]
    public async Task EveryWrite_HasItsAuditEntry_WithActorTokenIpAndValues()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Audited");
        using var client = fixture.Api.As(token);
        var tokenId = (await ResultAsync(await client.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString();
        var zone = await CreateZoneAsync(client, account, $"a{Guid.NewGuid():N}"[..12] + ".example.com");
        var zoneId = zone.GetProperty("id").GetString()!;
        var zoneName = zone.GetProperty("name").GetString()!;
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}", new { paused = true }));
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "on" }));
        var other = await IssueTokenAsync(client, $"/client/v4/accounts/{account}/tokens", account, [ZoneRead]);
        using var otherClient = fixture.Api.As(other);
        var otherId = (await ResultAsync(await otherClient.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString();
        await ResultAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{otherId}/value", new { }));
        await ResultAsync(await client.DeleteAsync($"/client/v4/accounts/{account}/tokens/{otherId}"));
        await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{zoneId}"));

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?direction=asc&per_page=50"));
        var entries = body.GetProperty("result").EnumerateArray().ToList();
        Assert.Equal(
            ["account.create", "token.create", "zone.create", "zone.update", "zone.settings.update", "token.create", "token.roll", "token.revoke", "zone.delete"],
            entries.Select(e => e.GetProperty("action").GetProperty("type").GetString()));

        var setting = entries.Single(e => e.GetProperty("action").GetProperty("type").GetString() == "zone.settings.update");
        Assert.Equal(["id", "action", "actor", "interface", "metadata", "newValue", "newValueJson", "oldValue", "oldValueJson", "owner", "resource", "when", "zone_name"], setting.EnumerateObject().Select(p => p.Name));
        Assert.Equal("off", setting.GetProperty("oldValueJson").GetProperty("value").GetString());
        Assert.Equal("on", setting.GetProperty("newValueJson").GetProperty("value").GetString());
        // Cloudflare's clients type newValue and oldValue as strings: the same value as JSON text.
        Assert.Equal("on", JsonDocument.Parse(setting.GetProperty("newValue").GetString()!).RootElement.GetProperty("value").GetString());
        Assert.Equal(tokenId, setting.GetProperty("actor").GetProperty("id").GetString());
        Assert.Equal("user", setting.GetProperty("actor").GetProperty("type").GetString());
        Assert.Equal("127.0.0.1", setting.GetProperty("actor").GetProperty("ip").GetString());
        Assert.Equal(zoneName, setting.GetProperty("zone_name").GetString());
        Assert.Equal(account, setting.GetProperty("owner").GetProperty("id").GetString());

        var filtered = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=zone.delete&zone.name={zoneName}"));
        Assert.Equal(zoneId, Assert.Single(filtered.EnumerateArray()).GetProperty("resource").GetProperty("id").GetString());
        var none = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?before=2000-01-01T00:00:00Z"));
        Assert.Equal(0, none.GetArrayLength());
    }

    [Fact]
    public async Task ActionResultFilter_ListsExactlyTheFailedOrTheSucceededWrites_AndAnythingButTrueOrFalseIs400()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Results");
        using var client = fixture.Api.As(token);
        var zoneId = (await CreateZoneAsync(client, account, $"r{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "maybe" }), HttpStatusCode.BadRequest, 1007);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name = "not a zone name" }), HttpStatusCode.BadRequest, 1004);
        var route = $"/client/v4/accounts/{account}/audit_logs?direction=asc";

        var failed = (await ResultAsync(await client.GetAsync(route + "&action.result=false"))).EnumerateArray().ToList();
        var succeeded = (await ResultAsync(await client.GetAsync(route + "&action.result=true"))).EnumerateArray().ToList();
        var all = await ResultAsync(await client.GetAsync(route));

        Assert.Equal(["zone.settings.update", "zone.create"], failed.Select(e => e.GetProperty("action").GetProperty("type").GetString()));
        Assert.All(failed, e => Assert.False(e.GetProperty("action").GetProperty("result").GetBoolean()));
        Assert.Equal(["account.create", "token.create", "zone.create"], succeeded.Select(e => e.GetProperty("action").GetProperty("type").GetString()));
        Assert.All(succeeded, e => Assert.True(e.GetProperty("action").GetProperty("result").GetBoolean()));
        Assert.Equal(5, all.GetArrayLength());
        // Every one of these writes came through the REST API.
        Assert.All(all.EnumerateArray(), e => Assert.Equal("API", e.GetProperty("interface").GetString()));

        foreach (var bad in new[] { "maybe", "1", "yes", "null" })
        {
            var response = await client.GetAsync(route + "&action.result=" + bad);
            var body = await EnvelopeAssertions.AssertFailureAsync(response, HttpStatusCode.BadRequest, 1004);
            Assert.Equal("action.result must be true or false.", body.GetProperty("errors")[0].GetProperty("message").GetString());
        }
    }
}
