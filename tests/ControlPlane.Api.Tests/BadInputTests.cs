using System.Net;
using System.Text;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>
/// Known inputs that once produced a 5xx (or a 503 that invited a retry): each is now 400
/// with code 1004 and changes nothing. The generated sweep over every route is
/// <see cref="BadInputWalkerTests"/>.
/// </summary>
[Collection("api")]
public sealed class BadInputTests(ApiFixture fixture)
{
    private const string ValidPermissionGroup = "{\"id\":\"" + ZoneRead + "\"}";

    [Fact]
    public async Task NulInAQueryValue_Is400With1004()
    {
        var (_, client, _) = await TenantAsync();
        using var _ = client;

        await AssertRefusedAsync(() => client.GetAsync("/client/v4/zones?name=%00"), "'name' contains a NUL character");
    }

    [Fact]
    public async Task NulInAJsonString_OnAccountCreate_Is400With1004_AndChangesNothing()
    {
        using var client = fixture.Api.Operator();

        await AssertRefusedAsync(() => client.PostAsync("/operator/v1/accounts", Json("""{"name":"a\u0000b"}""")), "'name' contains a NUL character");
    }

    [Theory]
    [InlineData("client")]
    [InlineData("operator")]
    public async Task NulInAJsonString_OnTokenCreate_Is400With1004_AndChangesNothing(string route)
    {
        var (account, client, path) = await TokenRouteAsync(route);
        using var _ = client;
        var body = "{\"name\":\"a\\u0000b\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":[" + ValidPermissionGroup
            + "],\"resources\":{\"com.cloudflare.api.account." + account + "\":\"*\"}}]}";

        await AssertRefusedAsync(() => client.PostAsync(path, Json(body)), "'name' contains a NUL character");
    }

    [Theory]
    [InlineData("disable_http_ports", """{"value":"\ud800"}""", "'value' is not valid Unicode")]
    [InlineData("disable_http_ports", """{"value":"\udfff"}""", "'value' is not valid Unicode")]
    [InlineData("", """{"items":[{"id":"disable_http_ports","value":"\ud800"}]}""", "'items[0].value' is not valid Unicode")]
    public async Task LoneSurrogateInASettingValue_Is400With1004_AndChangesNothing(string setting, string body, string message)
    {
        var (account, client, _) = await TenantAsync();
        using var _ = client;
        var zone = (await CreateZoneAsync(client, account, $"s{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString();

        await AssertRefusedAsync(() => client.PatchAsync($"/client/v4/zones/{zone}/settings/{setting}".TrimEnd('/'), Json(body)), message);
        var value = (await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone}/settings/disable_http_ports"))).GetProperty("value").GetString();
        Assert.Equal("off", value);
    }

    [Theory]
    [InlineData("analytics", "until", "0001-01-01T00:00:00Z")]
    [InlineData("analytics", "until", "9999-12-31T23:59:59.9999999Z")]
    [InlineData("analytics", "since", "0001-01-01T00:00:00Z")]
    [InlineData("analytics", "since", "9999-12-31T23:59:59Z")]
    [InlineData("audit", "since", "0001-01-01T00:00:00Z")]
    [InlineData("audit", "since", "9999-01-01T00:00:00Z")]
    [InlineData("audit", "before", "0001-01-01T00:00:00Z")]
    [InlineData("audit", "before", "9999-12-31T23:59:59Z")]
    public async Task ExtremeDate_InADateQueryParameter_Is400With1004(string route, string parameter, string date)
    {
        var (account, client, _) = await TenantAsync();
        using var _ = client;
        var zone = (await CreateZoneAsync(client, account, $"d{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString();
        var path = route == "analytics" ? $"/client/v4/zones/{zone}/analytics/plaintext_http" : $"/client/v4/accounts/{account}/audit_logs";

        await AssertRefusedAsync(() => client.GetAsync($"{path}?{parameter}={Uri.EscapeDataString(date)}"), $"{parameter} must be a date from 1970-01-01T00:00:00Z");
    }

    [Theory]
    [InlineData("client", "not_before", "0001-01-01T00:00:00Z")]
    [InlineData("client", "expires_on", "9999-12-31T23:59:59Z")]
    [InlineData("operator", "expires_on", "0001-01-01T00:00:00Z")]
    public async Task ExtremeDate_InATokenBody_Is400With1004_AndChangesNothing(string route, string field, string date)
    {
        var (account, client, path) = await TokenRouteAsync(route);
        using var _ = client;
        var body = "{\"name\":\"dated\",\"" + field + "\":\"" + date + "\",\"policies\":[{\"effect\":\"allow\",\"permission_groups\":[" + ValidPermissionGroup
            + "],\"resources\":{\"com.cloudflare.api.account." + account + "\":\"*\"}}]}";

        await AssertRefusedAsync(() => client.PostAsync(path, Json(body)), $"{field} must be a date from 1970-01-01T00:00:00Z");
    }

    [Theory]
    [InlineData("client", "'policies':[null]", "'policies[0]' is null")]
    [InlineData("operator", "'policies':[null]", "'policies[0]' is null")]
    [InlineData("client", "'policies':[{'effect':'allow','permission_groups':[null],'resources':{'RESOURCE':'*'}}]", "'policies[0].permission_groups[0]' is null")]
    [InlineData("operator", "'policies':[{'effect':'allow','permission_groups':[null],'resources':{'RESOURCE':'*'}}]", "'policies[0].permission_groups[0]' is null")]
    [InlineData("client", "'policies':[{'effect':'allow','permission_groups':[PG],'resources':null}]", "a policy needs resources")]
    [InlineData("operator", "'policies':[{'effect':'allow','permission_groups':null,'resources':{'RESOURCE':'*'}}]", "a policy needs permission_groups")]
    [InlineData("client", "'policies':[{'effect':'allow','permission_groups':[PG],'resources':{'RESOURCE':null}}]", "resource values must be")]
    public async Task NullInsideTokenPolicies_Is400With1004_AndChangesNothing(string route, string policies, string message)
    {
        var (account, client, path) = await TokenRouteAsync(route);
        using var _ = client;
        var body = "{\"name\":\"nulls\"," + policies.Replace('\'', '"').Replace("RESOURCE", $"com.cloudflare.api.account.{account}", StringComparison.Ordinal)
            .Replace("PG", ValidPermissionGroup, StringComparison.Ordinal) + "}";

        await AssertRefusedAsync(() => client.PostAsync(path, Json(body)), message);
    }

    [Fact]
    public async Task PolicyValidator_RefusesANullPolicy_Itself()
    {
        // The input guard refuses null array elements before binding; the validator must not rely on it.
        var validator = new Features.Tokens.TokenRequestValidator();

        var result = await validator.ValidateAsync(new Features.Tokens.TokenRequest("n", [null], null, null));

        Assert.Contains(result.Errors, e => e.ErrorMessage == "policies must not hold null");
    }

    private async Task<(string Account, HttpClient Client, string TokenRoute)> TenantAsync()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Bad input");
        return (account, fixture.Api.As(token), $"/client/v4/accounts/{account}/tokens");
    }

    /// <summary>The customer route that creates tokens, or the operator's.</summary>
    private async Task<(string Account, HttpClient Client, string Route)> TokenRouteAsync(string route)
    {
        var (account, client, customerRoute) = await TenantAsync();
        if (route == "client")
        {
            return (account, client, customerRoute);
        }

        client.Dispose();
        return (account, fixture.Api.Operator(), $"/operator/v1/accounts/{account}/tokens");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Sends once; asserts 400/1004 with the message and that no table and no revision changed.</summary>
    private async Task AssertRefusedAsync(Func<Task<HttpResponseMessage>> send, string message)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        var before = await DatabaseState.ReadAsync(connection);

        var response = await send();

        var body = await EnvelopeAssertions.AssertFailureAsync(response, HttpStatusCode.BadRequest, 1004);
        Assert.Contains(message, body.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty((await DatabaseState.ReadAsync(connection)).ChangesSince(before));
    }
}
