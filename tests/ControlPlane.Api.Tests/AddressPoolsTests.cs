using System.Text.Json;
using ControlPlane.Testing;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>
/// The operator's pool view: per pool, addresses allocated (<c>used</c>), in quarantine and free,
/// on a database of its own so the counts are exact.
/// </summary>
public sealed class AddressPoolsTests : IAsyncLifetime, IDisposable
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
    public async Task PoolView_CountsAllocatedQuarantinedAndFree_AfterZonesAreCreatedAndOneDeleted()
    {
        await using var api = Start([]);
        var customers = new CustomerApiClient(api);
        await customers.EnsurePoolsAsync("192.0.2.0/29", "2001:db8:100::/120");
        var (account, token) = await customers.NewTenantAsync("Pools");
        using var client = customers.As(token);
        var zones = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            zones.Add((await CreateZoneAsync(client, account, $"p{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!);
        }

        await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{zones[0]}"));

        using var op = customers.Operator();
        var pools = (await ResultAsync(await op.GetAsync("/operator/v1/address_pools"))).EnumerateArray().ToList();
        // A /29 has 6 usable addresses; a /120 of IPv6 has 255 (the subnet-router anycast address is skipped).
        Assert.Equal([("192.0.2.0/29", 6L, 2L, 1L, 3L), ("2001:db8:100::/120", 255L, 2L, 1L, 252L)], pools.Select(Usage));
        var listed = await ResultAsync(await op.GetAsync("/operator/v1/accounts?per_page=50"));
        Assert.Equal(2, listed.EnumerateArray().Single(a => a.GetProperty("id").GetString() == account).GetProperty("zone_count").GetInt64());
    }

    [Fact]
    public async Task PoolView_WithNoQuarantine_CountsAReleasedAddressAsFree()
    {
        await using var api = Start(new() { ["Addresses:Quarantine"] = "00:00:00" });
        var customers = new CustomerApiClient(api);
        await customers.EnsurePoolsAsync("192.0.2.0/29", "2001:db8:100::/120");
        var (account, token) = await customers.NewTenantAsync("Pools");
        using var client = customers.As(token);
        var zoneId = (await CreateZoneAsync(client, account, $"p{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        await CreateZoneAsync(client, account, $"p{Guid.NewGuid():N}"[..12] + ".example.com");
        await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{zoneId}"));

        using var op = customers.Operator();
        var pool = (await ResultAsync(await op.GetAsync("/operator/v1/address_pools")))[0];

        Assert.Equal(("192.0.2.0/29", 6L, 1L, 0L, 5L), Usage(pool));
    }

    private static (string Cidr, long Size, long Used, long Quarantined, long Free) Usage(JsonElement pool) => (
        pool.GetProperty("cidr").GetString()!, pool.GetProperty("size").GetInt64(), pool.GetProperty("used").GetInt64(),
        pool.GetProperty("quarantined").GetInt64(), pool.GetProperty("free").GetInt64());

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
