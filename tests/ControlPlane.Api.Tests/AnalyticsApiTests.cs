using System.Net;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class AnalyticsApiTests(ApiFixture fixture)
{
    [Fact]
    public async Task PlaintextAnalytics_ReturnsADenseSeries_AndRefusesBadRanges()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Analytics");
        using var client = fixture.Api.As(token);
        var zone = (await CreateZoneAsync(client, account, $"an{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString();
        var route = $"/client/v4/zones/{zone}/analytics/plaintext_http";
        var until = DateTime.UtcNow.AddMinutes(-1);
        var since = until.AddMinutes(-30);

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"{route}?since={since:O}&until={until:O}&granularity=minute"));
        var result = body.GetProperty("result");
        Assert.InRange(result.GetProperty("series").GetArrayLength(), 30, 31);
        Assert.Equal(0, result.GetProperty("totals").GetProperty("attempted").GetInt64());
        Assert.Equal("minute", result.GetProperty("granularity").GetString());

        foreach (var query in new[]
                 {
                     $"since={until:O}&until={since:O}",
                     $"since={DateTime.UtcNow.AddDays(-30):O}&until={until:O}&granularity=minute",
                     $"since={since:O}&until={DateTime.UtcNow.AddDays(1):O}",
                     "granularity=week",
                 })
        {
            await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"{route}?{query}"), HttpStatusCode.BadRequest, 1004);
        }
    }

    [Fact]
    public async Task PlaintextAnalytics_IsTenantIsolated_AndNeedsAnalyticsRead()
    {
        var (accountA, tokenA) = await fixture.Api.NewTenantAsync("Analytics A");
        var (_, tokenB) = await fixture.Api.NewTenantAsync("Analytics B");
        using var a = fixture.Api.As(tokenA);
        using var b = fixture.Api.As(tokenB);
        var zone = (await CreateZoneAsync(a, accountA, $"ai{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString();
        var readOnlyZones = await IssueTokenAsync(a, $"/client/v4/accounts/{accountA}/tokens", accountA, [ZoneRead]);
        using var limited = fixture.Api.As(readOnlyZones);

        await EnvelopeAssertions.AssertFailureAsync(await b.GetAsync($"/client/v4/zones/{zone}/analytics/plaintext_http"), HttpStatusCode.NotFound, 1001);
        await EnvelopeAssertions.AssertFailureAsync(await limited.GetAsync($"/client/v4/zones/{zone}/analytics/plaintext_http"), HttpStatusCode.Forbidden, 10000);
    }
}
