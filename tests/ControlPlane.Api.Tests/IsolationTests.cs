using System.Net;
using System.Net.Http.Json;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>Tenant A against every object route of tenant B, with every method: always 404, never B's data.</summary>
[Collection("api")]
public sealed class IsolationTests(ApiFixture fixture)
{
    [Fact]
    public async Task AnotherTenantsObjects_Are404_ForEveryRouteAndMethod_AndShowNoData()
    {
        var (accountA, tokenA) = await fixture.Api.NewTenantAsync("Tenant A");
        var (accountB, tokenB) = await fixture.Api.NewTenantAsync("Tenant B secret name");
        using var a = fixture.Api.As(tokenA);
        using var b = fixture.Api.As(tokenB);
        var zoneB = await CreateZoneAsync(b, accountB, $"b{Guid.NewGuid():N}"[..12] + ".example.com");
        var zoneId = zoneB.GetProperty("id").GetString()!;
        var zoneName = zoneB.GetProperty("name").GetString()!;
        var tokenIdB = (await ResultAsync(await b.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString()!;
        var settingOn = JsonContent.Create(new { value = "on" });

        var requests = new (HttpMethod Method, string Route, HttpContent? Body)[]
        {
            (HttpMethod.Get, $"/client/v4/zones/{zoneId}", null),
            (HttpMethod.Patch, $"/client/v4/zones/{zoneId}", JsonContent.Create(new { paused = true })),
            (HttpMethod.Delete, $"/client/v4/zones/{zoneId}", null),
            (HttpMethod.Get, $"/client/v4/zones/{zoneId}/settings", null),
            (HttpMethod.Patch, $"/client/v4/zones/{zoneId}/settings", JsonContent.Create(new { items = new[] { new { id = "disable_http_ports", value = "on" } } })),
            (HttpMethod.Get, $"/client/v4/zones/{zoneId}/settings/disable_http_ports", null),
            (HttpMethod.Patch, $"/client/v4/zones/{zoneId}/settings/disable_http_ports", settingOn),
            (HttpMethod.Get, $"/client/v4/accounts/{accountB}/tokens/verify", null),
            (HttpMethod.Get, $"/client/v4/accounts/{accountB}/tokens", null),
            (HttpMethod.Post, $"/client/v4/accounts/{accountB}/tokens", JsonContent.Create(new { name = "x", policies = new[] { new { effect = "allow", permission_groups = new[] { new { id = ZoneRead } }, resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{accountB}"] = "*" } } } })),
            (HttpMethod.Get, $"/client/v4/accounts/{accountB}/tokens/{tokenIdB}", null),
            (HttpMethod.Delete, $"/client/v4/accounts/{accountB}/tokens/{tokenIdB}", null),
            (HttpMethod.Put, $"/client/v4/accounts/{accountB}/tokens/{tokenIdB}/value", JsonContent.Create(new { })),
            (HttpMethod.Get, $"/client/v4/accounts/{accountB}/audit_logs", null),
            (HttpMethod.Post, "/client/v4/zones", JsonContent.Create(new { account = new { id = accountB }, name = "stolen-" + zoneName })),
        };

        foreach (var (method, route, body) in requests)
        {
            using var request = new HttpRequestMessage(method, route) { Content = body };
            var response = await a.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {route}: {(int)response.StatusCode} {text}");
            Assert.DoesNotContain(zoneName, text, StringComparison.Ordinal);
            Assert.DoesNotContain("Tenant B", text, StringComparison.Ordinal);
            Assert.DoesNotContain(tokenIdB, text, StringComparison.Ordinal);
        }

        // A's lists never show B's objects, and B's zone and token are untouched.
        var zonesOfA = await a.GetStringAsync("/client/v4/zones?per_page=50");
        Assert.DoesNotContain(zoneId, zonesOfA, StringComparison.Ordinal);
        var logsOfA = await a.GetStringAsync($"/client/v4/accounts/{accountA}/audit_logs?per_page=50");
        Assert.DoesNotContain(zoneId, logsOfA, StringComparison.Ordinal);
        var zone = await ResultAsync(await b.GetAsync($"/client/v4/zones/{zoneId}"));
        Assert.False(zone.GetProperty("paused").GetBoolean());
        var setting = await ResultAsync(await b.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports"));
        Assert.Equal("off", setting.GetProperty("value").GetString());
        await EnvelopeAssertions.AssertSuccessAsync(await b.GetAsync("/client/v4/user/tokens/verify"));
    }
}
