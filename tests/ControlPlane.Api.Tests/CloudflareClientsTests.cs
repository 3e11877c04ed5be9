using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static ControlPlane.Testing.CustomerApiClient;

// Request bodies are written inline, as a client would send them, not hoisted into fields.
#pragma warning disable CA1861

namespace ControlPlane.Api.Tests;

/// <summary>
/// The routes and shapes real Cloudflare clients use (issue "Cloudflare clients, round 2"): one
/// test per case, each asserting the value Cloudflare's clients expect.
/// </summary>
[Collection("api")]
public sealed class CloudflareClientsTests(ApiFixture fixture)
{
    private static object Policy(string account, params string[] groups) => new
    {
        effect = "allow",
        permission_groups = groups.Select(id => new { id }).ToArray(),
        resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{account}"] = "*" },
    };

    private static async Task<JsonElement> CreateTokenAsync(HttpClient client, string account, object? condition)
    {
        var response = await client.PostAsJsonAsync($"/client/v4/accounts/{account}/tokens",
            new { name = "conditioned", policies = new[] { Policy(account, ZoneRead) }, condition });
        return await ResultAsync(response);
    }

    [Fact]
    public async Task TokenIpCondition_IsStoredReturnedAndEnforced_ForIPv4()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Conditions");
        using var client = fixture.Api.As(token);

        var elsewhere = await CreateTokenAsync(client, account, new { request_ip = new { @in = new[] { "10.0.0.0/8" } } });
        Assert.Equal(["10.0.0.0/8"], elsewhere.GetProperty("condition").GetProperty("request_ip").GetProperty("in").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, elsewhere.GetProperty("condition").GetProperty("request_ip").GetProperty("not_in").GetArrayLength());
        var read = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{elsewhere.GetProperty("id").GetString()}"));
        Assert.Equal("10.0.0.0/8", read.GetProperty("condition").GetProperty("request_ip").GetProperty("in")[0].GetString());
        using (var outside = fixture.Api.As(elsewhere.GetProperty("value").GetString()!))
        {
            var refused = await EnvelopeAssertions.AssertFailureAsync(await outside.GetAsync("/client/v4/zones"), HttpStatusCode.Forbidden, 9109);
            Assert.Equal("Cannot use the access token from location: 127.0.0.1", refused.GetProperty("errors")[0].GetProperty("message").GetString());
        }

        var here = await CreateTokenAsync(client, account, new { request_ip = new { @in = new[] { "127.0.0.0/8" } } });
        using (var inside = fixture.Api.As(here.GetProperty("value").GetString()!))
        {
            await EnvelopeAssertions.AssertSuccessAsync(await inside.GetAsync("/client/v4/zones"));
        }

        var excluded = await CreateTokenAsync(client, account, new { request_ip = new { @in = new[] { "127.0.0.0/8" }, not_in = new[] { "127.0.0.1" } } });
        using (var notHere = fixture.Api.As(excluded.GetProperty("value").GetString()!))
        {
            await EnvelopeAssertions.AssertFailureAsync(await notHere.GetAsync("/client/v4/zones"), HttpStatusCode.Forbidden, 9109);
        }
    }

    [Fact]
    public async Task TokenIpCondition_IsEnforcedForIPv6_FromLoopback()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Conditions v6");
        using var client = fixture.Api.As(token);
        var v6Only = await CreateTokenAsync(client, account, new { request_ip = new { @in = new[] { "::1/128" } } });
        var documentation = await CreateTokenAsync(client, account, new { request_ip = new { @in = new[] { "2001:db8::/32" } } });

        // A second replica of the API, on the same database, listening on [::1].
        await using var v6 = new ApiFactory(fixture.Certificates, fixture.Database.ConnectionString, fixture.VirtualHost.AmqpUri,
            new Dictionary<string, string?> { ["Https:Address"] = "::1" });
        v6.StartServer();
        Assert.Equal("[::1]", v6.BaseAddress.Host);
        var overV6 = new CustomerApiClient(v6);

        using (var allowed = overV6.As(v6Only.GetProperty("value").GetString()!))
        {
            await EnvelopeAssertions.AssertSuccessAsync(await allowed.GetAsync("/client/v4/zones"));
        }

        using (var refused = overV6.As(documentation.GetProperty("value").GetString()!))
        {
            var body = await EnvelopeAssertions.AssertFailureAsync(await refused.GetAsync("/client/v4/zones"), HttpStatusCode.Forbidden, 9109);
            Assert.Equal("Cannot use the access token from location: ::1", body.GetProperty("errors")[0].GetProperty("message").GetString());
        }

        // The IPv6-only token, over IPv4, is outside its range.
        using var overV4 = fixture.Api.As(v6Only.GetProperty("value").GetString()!);
        await EnvelopeAssertions.AssertFailureAsync(await overV4.GetAsync("/client/v4/zones"), HttpStatusCode.Forbidden, 9109);
    }

    [Theory]
    [InlineData("""{"request_ip":{"in":["10.0.0.1/8"]}}""")]
    [InlineData("""{"request_ip":{"in":["10"]}}""")]
    [InlineData("""{"request_ip":{"in":["not an address"]}}""")]
    [InlineData("""{"request_ip":{"maybe":["10.0.0.0/8"]}}""")]
    [InlineData("""{"request_port":{"in":[80]}}""")]
    public async Task ABadCondition_Is400_AndCreatesNoToken(string condition)
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Bad conditions");
        using var client = fixture.Api.As(token);
        await using var db = fixture.Database.CreateContext();
        var before = await db.ApiTokens.IgnoreQueryFilters().CountAsync();
        var body = JsonSerializer.Serialize(new { name = "bad", policies = new[] { Policy(account, ZoneRead) }, condition = JsonDocument.Parse(condition).RootElement });

        var failure = await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync($"/client/v4/accounts/{account}/tokens", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, 1004);

        Assert.DoesNotContain("System.", failure.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal(before, await db.ApiTokens.IgnoreQueryFilters().CountAsync());
    }

    [Fact]
    public async Task ATokenReadWithGet_CanBeEditedAndSentBackWithPut_AndAFieldOutsideTheSchemaIs400()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Round trip");
        using var client = fixture.Api.As(token);
        var created = await CreateTokenAsync(client, account, null);
        var id = created.GetProperty("id").GetString()!;
        var read = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{id}"));

        // Every field read back, read-only ones included, with the name and condition edited.
        var edited = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(read.GetRawText())!;
        edited["name"] = JsonSerializer.SerializeToElement("renamed");
        edited["condition"] = JsonSerializer.SerializeToElement(new { request_ip = new { @in = new[] { "127.0.0.1/32" }, not_in = Array.Empty<string>() } });
        var updated = await ResultAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}", edited));
        Assert.Equal("renamed", updated.GetProperty("name").GetString());
        Assert.Equal("127.0.0.1/32", updated.GetProperty("condition").GetProperty("request_ip").GetProperty("in")[0].GetString());
        Assert.Equal(read.GetProperty("issued_on").GetString(), updated.GetProperty("issued_on").GetString());

        edited["fingerprint"] = JsonSerializer.SerializeToElement("not in the schema");
        var refused = await EnvelopeAssertions.AssertFailureAsync(
            await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}", edited), HttpStatusCode.BadRequest, 1004);
        Assert.Equal("Unknown field 'fingerprint' at $.fingerprint: it is not part of this object's schema.",
            refused.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal("renamed", (await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{id}"))).GetProperty("name").GetString());
    }

    [Fact]
    public async Task PutToken_UpdatesPoliciesDatesAndStatus_AndADisabledTokenStaysDisabled()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Updates");
        using var client = fixture.Api.As(token);
        var created = await CreateTokenAsync(client, account, null);
        var id = created.GetProperty("id").GetString()!;
        using var subject = fixture.Api.As(created.GetProperty("value").GetString()!);
        await EnvelopeAssertions.AssertSuccessAsync(await subject.GetAsync("/client/v4/zones"));
        var expires = DateTime.UtcNow.AddDays(3).Date;

        var updated = await ResultAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}",
            new { name = "audit only", policies = new[] { Policy(account, AuditRead) }, expires_on = expires }));
        Assert.Equal(expires, updated.GetProperty("expires_on").GetDateTime().ToUniversalTime());
        Assert.Equal([AuditRead], updated.GetProperty("policies")[0].GetProperty("permission_groups").EnumerateArray().Select(g => g.GetProperty("id").GetString()));
        // The new policies hold at once: Zone Read is gone, Audit Logs Read is there.
        await EnvelopeAssertions.AssertFailureAsync(await subject.GetAsync("/client/v4/zones"), HttpStatusCode.Forbidden, 10000);
        await EnvelopeAssertions.AssertSuccessAsync(await subject.GetAsync($"/client/v4/accounts/{account}/audit_logs"));

        await ResultAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}",
            new { name = "audit only", policies = new[] { Policy(account, AuditRead) }, status = "disabled" }));
        await EnvelopeAssertions.AssertFailureAsync(await subject.GetAsync($"/client/v4/accounts/{account}/audit_logs"), HttpStatusCode.Unauthorized, 1000);
        var reenable = await EnvelopeAssertions.AssertFailureAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}",
            new { name = "audit only", policies = new[] { Policy(account, AuditRead) }, status = "active" }), HttpStatusCode.BadRequest, 1004);
        Assert.Equal("A disabled token cannot be re-enabled; create a new token.", reenable.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal("disabled", (await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{id}"))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task PermissionGroups_AreListed_WithIdsNamesAndScopes()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Groups");
        using var client = fixture.Api.As(token);

        var groups = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/permission_groups"));
        Assert.Equal(AllPermissions.Order(), groups.EnumerateArray().Select(g => g.GetProperty("id").GetString()).Order());
        var zoneRead = groups.EnumerateArray().Single(g => g.GetProperty("id").GetString() == ZoneRead);
        Assert.Equal("Zone Read", zoneRead.GetProperty("name").GetString());
        Assert.Equal(["com.cloudflare.api.account.zone"], zoneRead.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var byName = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/permission_groups?name=Audit%20Logs%20Read"));
        Assert.Equal(AuditRead, Assert.Single(byName.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Accounts_ListTheTokensOwnAccount_AndAnyOtherIs404()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Accounts list");
        var (other, _) = await fixture.Api.NewTenantAsync("Someone else");
        using var client = fixture.Api.As(token);

        var list = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/client/v4/accounts"));
        var only = Assert.Single(list.GetProperty("result").EnumerateArray());
        Assert.Equal((account, "Accounts list", "standard"), (only.GetProperty("id").GetString(), only.GetProperty("name").GetString(), only.GetProperty("type").GetString()));
        Assert.Equal(1, list.GetProperty("result_info").GetProperty("total_count").GetInt32());

        var one = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}"));
        Assert.Equal("Accounts list", one.GetProperty("name").GetString());
        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/accounts/{other}"), HttpStatusCode.NotFound, 1003);
    }

    [Theory]
    [InlineData("zones", "per_page=1", 1)]
    [InlineData("zones", "per_page=500", 50)]
    [InlineData("zones", "", 20)]
    [InlineData("tokens", "per_page=100", 50)]
    [InlineData("audit_logs", "", 100)]
    [InlineData("audit_logs", "per_page=1000", 1000)]
    [InlineData("audit_logs", "per_page=5000", 1000)]
    public async Task Paging_FollowsTheCompatTable(string list, string query, int perPage)
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Paging");
        using var client = fixture.Api.As(token);
        var route = list == "zones" ? "/client/v4/zones" : $"/client/v4/accounts/{account}/{list}";

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"{route}?{query}"));

        Assert.Equal(perPage, body.GetProperty("result_info").GetProperty("per_page").GetInt32());
    }

    [Fact]
    public async Task AuditLogs_FilterByIdEmailAndIpPrefix_AndValuesAreStringsBesideJson()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Audit filters");
        using var client = fixture.Api.As(token);
        var zone = await CreateZoneAsync(client, account, $"af{Guid.NewGuid():N}"[..12] + ".example.com");
        var zoneId = zone.GetProperty("id").GetString()!;
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "maybe" }), HttpStatusCode.BadRequest, 1007);
        var route = $"/client/v4/accounts/{account}/audit_logs";
        var all = (await ResultAsync(await client.GetAsync(route))).EnumerateArray().ToList();
        Assert.Equal(4, all.Count); // account.create, token.create, zone.create, and the failed setting update

        var failed = all.Single(e => !e.GetProperty("action").GetProperty("result").GetBoolean());
        Assert.Equal("zone.settings.update", failed.GetProperty("action").GetProperty("type").GetString());
        var created = all.Single(e => e.GetProperty("action").GetProperty("type").GetString() == "zone.create");
        Assert.Equal(JsonValueKind.String, created.GetProperty("newValue").ValueKind);
        Assert.Equal(zoneId, created.GetProperty("newValueJson").GetProperty("id").GetString());
        Assert.Equal(zoneId, JsonDocument.Parse(created.GetProperty("newValue").GetString()!).RootElement.GetProperty("id").GetString());
        Assert.All(all, e => Assert.Contains(e.GetProperty("actor").GetProperty("type").GetString(), new[] { "user", "admin", "Cloudflare" }));

        var byId = await ResultAsync(await client.GetAsync($"{route}?id={created.GetProperty("id").GetString()}"));
        Assert.Equal(created.GetProperty("id").GetString(), Assert.Single(byId.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(0, (await ResultAsync(await client.GetAsync($"{route}?actor.email=someone@example.com"))).GetArrayLength());
        var loopback = (await ResultAsync(await client.GetAsync($"{route}?actor.ip=127.0.0.0/8"))).EnumerateArray().Select(e => e.GetProperty("id").GetString());
        Assert.Equal(all.Where(e => e.GetProperty("actor").GetProperty("ip").GetString() == "127.0.0.1").Select(e => e.GetProperty("id").GetString()), loopback);
        Assert.NotEmpty(loopback);
        Assert.Equal(0, (await ResultAsync(await client.GetAsync($"{route}?actor.ip=10.0.0.0/8"))).GetArrayLength());
        Assert.Equal(loopback, (await ResultAsync(await client.GetAsync($"{route}?actor.ip=127.0.0.1"))).EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"{route}?actor.ip=127.0.0.1/8"), HttpStatusCode.BadRequest, 1004);
    }

    [Fact]
    public async Task Errors_UseCloudflaresCodes_AndNoMessageNamesAFrameworkType()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Errors");
        using var client = fixture.Api.As(token);
        var zone = await CreateZoneAsync(client, account, $"er{Guid.NewGuid():N}"[..12] + ".example.com");
        var setting = $"/client/v4/zones/{zone.GetProperty("id").GetString()}/settings/disable_http_ports";

        var malformed = await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsync(setting, new StringContent("{\"value\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, 6007);
        Assert.Equal("Malformed JSON in request body", malformed.GetProperty("errors")[0].GetProperty("message").GetString());
        // The failed write's audit entry records what the client was told, not the framework's words.
        var audited = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=zone.settings.update"));
        var error = Assert.Single(audited.EnumerateArray()).GetProperty("metadata").GetProperty("error");
        Assert.Equal((6007, "Malformed JSON in request body"), (error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString()));
        var notJson = await EnvelopeAssertions.AssertFailureAsync(
            await client.PatchAsync(setting, new StringContent("{\"value\":\"on\"}", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, 9207);
        Assert.Equal("Content-type must be application/json.", notJson.GetProperty("errors")[0].GetProperty("message").GetString());

        var perPage = await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/client/v4/zones?per_page=ten"), HttpStatusCode.BadRequest, 1004);
        Assert.Equal("per_page must be an integer from -2147483648 to 2147483647.", perPage.GetProperty("errors")[0].GetProperty("message").GetString());
        var since = await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?since=yesterday"), HttpStatusCode.BadRequest, 1004);
        Assert.Equal("since must be an RFC 3339 date and time, such as 2026-01-31T00:00:00Z.", since.GetProperty("errors")[0].GetProperty("message").GetString());
        var wrongType = await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent("{\"name\":[1]}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, 1004);
        Assert.Equal("The value at $.name must be a string.", wrongType.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Fact]
    public void Timestamps_AreWrittenInUtcWithZ_EvenFromAnOffset()
    {
        var json = fixture.Factory.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

        var written = JsonSerializer.Serialize(new { last_seen = new DateTimeOffset(2026, 12, 2, 9, 30, 0, TimeSpan.FromHours(2)) }, json);

        Assert.Equal("""{"last_seen":"2026-12-02T07:30:00Z"}""", written);
    }
}
