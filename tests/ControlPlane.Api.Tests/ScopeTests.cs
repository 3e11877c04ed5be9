using System.Net;
using System.Net.Http.Json;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>Tokens of one tenant with narrower permissions or zone scopes: 403 where they fall short, success where they do not.</summary>
[Collection("api")]
public sealed class ScopeTests(ApiFixture fixture)
{
    private sealed record Call(string Name, HttpMethod Method, Func<Ctx, string> Route, Func<HttpContent?> Body);

    private sealed record Ctx(string Account, string Zone, string OtherZone);

    private static readonly Call[] Calls =
    [
        new("list zones", HttpMethod.Get, c => "/client/v4/zones", () => null),
        new("get zone", HttpMethod.Get, c => $"/client/v4/zones/{c.Zone}", () => null),
        new("patch zone", HttpMethod.Patch, c => $"/client/v4/zones/{c.Zone}", () => JsonContent.Create(new { paused = false })),
        new("create zone", HttpMethod.Post, c => "/client/v4/zones", () => null),
        new("get settings", HttpMethod.Get, c => $"/client/v4/zones/{c.Zone}/settings", () => null),
        new("get setting", HttpMethod.Get, c => $"/client/v4/zones/{c.Zone}/settings/disable_http_ports", () => null),
        new("patch setting", HttpMethod.Patch, c => $"/client/v4/zones/{c.Zone}/settings/disable_http_ports", () => JsonContent.Create(new { value = "off" })),
        new("other zone setting", HttpMethod.Get, c => $"/client/v4/zones/{c.OtherZone}/settings/disable_http_ports", () => null),
        new("list tokens", HttpMethod.Get, c => $"/client/v4/accounts/{c.Account}/tokens", () => null),
        new("audit logs", HttpMethod.Get, c => $"/client/v4/accounts/{c.Account}/audit_logs", () => null),
        new("verify", HttpMethod.Get, c => "/client/v4/user/tokens/verify", () => null),
    ];

    public static TheoryData<string, string[], bool, string[]> Matrix => new()
    {
        // token name, permission groups, scoped to the one zone only, calls that must be allowed
        { "zone read", [ZoneRead], false, ["list zones", "get zone", "verify"] },
        { "zone write", [ZoneWrite], false, ["list zones", "get zone", "patch zone", "create zone", "verify"] },
        { "settings read", [SettingsRead], false, ["get settings", "get setting", "other zone setting", "verify"] },
        { "settings write", [SettingsWrite], false, ["get settings", "get setting", "patch setting", "other zone setting", "verify"] },
        { "settings write, one zone", [SettingsWrite, ZoneRead], true, ["list zones", "get zone", "get settings", "get setting", "patch setting", "verify"] },
        { "tokens", [TokensWrite], false, ["list tokens", "verify"] },
        { "audit", [AuditRead], false, ["audit logs", "verify"] },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Token_IsAllowedExactlyWhatItsPoliciesGrant(string name, string[] permissions, bool oneZone, string[] allowed)
    {
        var (account, admin) = await fixture.Api.NewTenantAsync("Scopes " + name);
        using var adminClient = fixture.Api.As(admin);
        var zone = (await CreateZoneAsync(adminClient, account, $"s{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        var other = (await CreateZoneAsync(adminClient, account, $"o{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        var token = await IssueTokenAsync(adminClient, $"/client/v4/accounts/{account}/tokens", account, permissions,
            oneZone ? [$"com.cloudflare.api.account.zone.{zone}"] : null);
        using var client = fixture.Api.As(token);
        var ctx = new Ctx(account, zone, other);

        foreach (var call in Calls)
        {
            var body = call.Name == "create zone"
                ? JsonContent.Create(new { account = new { id = account }, name = $"c{Guid.NewGuid():N}"[..12] + ".example.com" })
                : call.Body();
            using var request = new HttpRequestMessage(call.Method, call.Route(ctx)) { Content = body };
            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (allowed.Contains(call.Name))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {call.Name} should be allowed, got {(int)response.StatusCode} {text}");
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{name}: {call.Name} should be 403, got {(int)response.StatusCode} {text}");
                Assert.Contains("\"code\":10000", text, StringComparison.Ordinal);
            }
        }

        if (oneZone)
        {
            // A zone-scoped token lists only its zone.
            var list = await ResultAsync(await client.GetAsync("/client/v4/zones"));
            Assert.Equal([zone], list.EnumerateArray().Select(z => z.GetProperty("id").GetString()));
        }
    }
}
