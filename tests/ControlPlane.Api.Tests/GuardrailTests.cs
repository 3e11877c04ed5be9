using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>APIs with non-default settings: a small rate limit, a plaintext listener, a tiny address pool.</summary>
public sealed class GuardrailTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates certificates = new();
    private TestDatabase database = null!;
    private TestVirtualHost vhost = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        vhost = await TestVirtualHost.CreateAsync();
    }

    [Fact]
    public async Task RateLimit_PerToken_Answers429With971AndAShortRetryAfter()
    {
        await using var api = Start(new() { ["RateLimit:Capacity"] = "5", ["RateLimit:RefillPerSecond"] = "1" });
        var customers = new CustomerApiClient(api);
        var (_, first) = await customers.NewTenantAsync("Limited");
        var (_, second) = await customers.NewTenantAsync("Other");
        using var client = customers.As(first);

        for (var i = 0; i < 5; i++)
        {
            await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/client/v4/user/tokens/verify"));
        }

        var limited = await client.GetAsync("/client/v4/user/tokens/verify");
        await EnvelopeAssertions.AssertFailureAsync(limited, HttpStatusCode.TooManyRequests, 971);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 2);

        // The budget is the token's own: another token is not limited.
        using var other = customers.As(second);
        await EnvelopeAssertions.AssertSuccessAsync(await other.GetAsync("/client/v4/user/tokens/verify"));
    }

    [Fact]
    public async Task RateLimit_AClientThatWaitsExactlyTheRetryAfterItWasGiven_IsAdmitted()
    {
        await using var api = Start(new() { ["RateLimit:Capacity"] = "3", ["RateLimit:RefillPerSecond"] = "1" });
        var customers = new CustomerApiClient(api);
        var (_, token) = await customers.NewTenantAsync("Patient");
        using var client = customers.As(token);

        for (var round = 0; round < 3; round++)
        {
            HttpResponseMessage? limited = null;
            for (var i = 0; i < 10 && limited is null; i++)
            {
                var response = await client.GetAsync("/client/v4/user/tokens/verify");
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    limited = response;
                }
            }

            Assert.NotNull(limited);
            var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 2);
            // Exactly what the header said, no slack: a client obeying it must get in.
            await Task.Delay(TimeSpan.FromSeconds(retryAfter));
            await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/client/v4/user/tokens/verify"));
        }
    }

    [Fact]
    public async Task PlaintextRequest_FromAnUntrustedPeer_IsRefused_AndItsTokenRevokedAndAudited()
    {
        await using var api = Start(new() { ["Plaintext:Enabled"] = "true", ["Plaintext:Port"] = "0", ["Plaintext:TrustedProxies:0"] = "192.0.2.10" });
        var customers = new CustomerApiClient(api);
        var (account, token) = await customers.NewTenantAsync("Plaintext");
        var plain = api.ListenAddresses.Single(a => a.Scheme == "http");

        using var http = new HttpClient { BaseAddress = plain };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var refused = await http.GetAsync("/client/v4/zones");
        await EnvelopeAssertions.AssertFailureAsync(refused, HttpStatusCode.Forbidden, 1205);

        using var https = customers.As(token);
        await EnvelopeAssertions.AssertFailureAsync(await https.GetAsync("/client/v4/user/tokens/verify"), HttpStatusCode.Unauthorized, 1000);
        await using var db = database.CreateContext();
        var revoked = await db.ApiTokens.IgnoreQueryFilters().SingleAsync(t => t.AccountId == account);
        Assert.Equal("exposed over plaintext HTTP", revoked.RevokedReason);
        var entry = await db.AuditLogs.IgnoreQueryFilters().SingleAsync(a => a.AccountId == account && a.ActionType == "token.revoke");
        Assert.Equal("exposed over plaintext HTTP", entry.NewValue!.RootElement.GetProperty("reason").GetString());
        Assert.Equal("127.0.0.1", entry.ActorIp?.ToString());
    }

    [Fact]
    public async Task PlaintextRequest_FromATrustedProxy_IsServed()
    {
        await using var api = Start(new() { ["Plaintext:Enabled"] = "true", ["Plaintext:Port"] = "0", ["Plaintext:TrustedProxies:0"] = "127.0.0.1" });
        var customers = new CustomerApiClient(api);
        var (_, token) = await customers.NewTenantAsync("Proxied");

        using var http = new HttpClient { BaseAddress = api.ListenAddresses.Single(a => a.Scheme == "http") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await EnvelopeAssertions.AssertSuccessAsync(await http.GetAsync("/client/v4/user/tokens/verify"));
    }

    [Theory]
    [InlineData("RateLimit:Capacity", "0")]
    [InlineData("RateLimit:RefillPerSecond", "-1")]
    [InlineData("Status:StaleAfter", "00:00:00")]
    [InlineData("Operator:TokenSha256", "not-a-hash")]
    [InlineData("Authentication:LastUsedFlushInterval", "-00:00:01")]
    [InlineData("ConnectionStrings:RabbitMq", "http://not-amqp")]
    public void ABadOption_FailsStart_NamingItsKey(string key, string value)
    {
        using var api = new ApiFactory(certificates, database.ConnectionString, vhost.AmqpUri, new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(api.StartServer);

        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PlaintextListener_WithoutTrustedProxies_RefusesToStart()
    {
        using var api = new ApiFactory(certificates, database.ConnectionString, vhost.AmqpUri, new Dictionary<string, string?> { ["Plaintext:Enabled"] = "true" });

        var error = Assert.ThrowsAny<Exception>(api.StartServer);

        Assert.Contains("TrustedProxies", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExhaustedPool_IsAClear400_AndLeavesNothingHalfWritten()
    {
        await using var api = Start([]);
        var customers = new CustomerApiClient(api);
        await customers.EnsurePoolsAsync("198.51.100.0/31", "2001:db8:200::/64");
        var (account, token) = await customers.NewTenantAsync("Tiny pool");
        using var client = customers.As(token);
        await CreateZoneAsync(client, account, "one.example.com");
        await CreateZoneAsync(client, account, "two.example.com");

        var third = await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name = "three.example.com" });

        var body = await EnvelopeAssertions.AssertFailureAsync(third, HttpStatusCode.BadRequest, 1210);
        Assert.Contains("IPv4", body.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        await using var db = database.CreateContext();
        Assert.Equal(2, await db.Zones.IgnoreQueryFilters().CountAsync());
        Assert.Equal(4, await db.EdgeAddresses.CountAsync());
        Assert.Equal(2, await db.ChangeLog.CountAsync());
        Assert.Equal(2, await db.AuditLogs.IgnoreQueryFilters().CountAsync(a => a.ActionType == "zone.create" && a.ActionResult));
        var failed = await db.AuditLogs.IgnoreQueryFilters().SingleAsync(a => a.ActionType == "zone.create" && !a.ActionResult);
        Assert.Equal(1210, failed.Metadata!.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task OverlappingPool_IsRefused()
    {
        await using var api = Start([]);
        var customers = new CustomerApiClient(api);
        using var op = customers.Operator();
        await ResultAsync(await op.PostAsJsonAsync("/operator/v1/address_pools", new { cidr = "198.51.100.0/24" }));

        var overlap = await op.PostAsJsonAsync("/operator/v1/address_pools", new { cidr = "198.51.100.128/25" });
        await EnvelopeAssertions.AssertFailureAsync(overlap, HttpStatusCode.BadRequest, 1211);
        var hostBits = await op.PostAsJsonAsync("/operator/v1/address_pools", new { cidr = "192.0.2.7/24" });
        await EnvelopeAssertions.AssertFailureAsync(hostBits, HttpStatusCode.BadRequest, 1004);
    }

    [Fact]
    public async Task DataCenterRegistration_ReturnsTheAgentCredentialOnce_AndStoresOnlyItsHash()
    {
        await using var api = Start([]);
        using var op = new CustomerApiClient(api).Operator();

        var registered = await ResultAsync(await op.PostAsJsonAsync("/operator/v1/data_centers", new { code = "ams", name = "Amsterdam" }));
        var credential = registered.GetProperty("agent_credential").GetString()!;
        var listed = await ResultAsync(await op.GetAsync("/operator/v1/data_centers"));
        var again = await op.PostAsJsonAsync("/operator/v1/data_centers", new { code = "ams", name = "Again" });

        Assert.StartsWith("cpdc_", credential, StringComparison.Ordinal);
        Assert.DoesNotContain(credential, listed.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("ams", Assert.Single(listed.EnumerateArray()).GetProperty("code").GetString());
        await EnvelopeAssertions.AssertFailureAsync(again, HttpStatusCode.BadRequest, 1212);
        await using var db = database.CreateContext();
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(credential)), (await db.DataCenters.SingleAsync()).CredentialHash);
    }

    public async Task DisposeAsync()
    {
        await vhost.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose() => certificates.Dispose();

    private ApiFactory Start(Dictionary<string, string?> settings)
    {
        var api = new ApiFactory(certificates, database.ConnectionString, vhost.AmqpUri, settings);
        api.StartServer();
        return api;
    }
}
