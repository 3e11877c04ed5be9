using ControlPlane.Testing;

namespace Dashboard.Tests;

/// <summary>
/// The real API for one browser test class, on real Kestrel with the browser fixture's
/// certificates: a freshly migrated database and a RabbitMQ vhost of its own, address pools made.
/// </summary>
internal sealed class PageTestApi : IAsyncDisposable
{
    private PageTestApi(TestDatabase database, TestVirtualHost virtualHost, ApiFactory api)
    {
        Database = database;
        VirtualHost = virtualHost;
        Api = api;
        Customers = new CustomerApiClient(api);
    }

    public TestDatabase Database { get; }

    public TestVirtualHost VirtualHost { get; }

    public ApiFactory Api { get; }

    public CustomerApiClient Customers { get; }

    /// <summary>Starts the API; <paramref name="pools"/> are its address pools (the default pools when none are given).</summary>
    public static async Task<PageTestApi> StartAsync(BrowserFixture browser, params string[] pools)
    {
        var database = await TestDatabase.CreateMigratedAsync();
        var virtualHost = await TestVirtualHost.CreateAsync();
        var api = new ApiFactory(browser.Certificates, database.ConnectionString, virtualHost.AmqpUri);
        api.StartServer();
        var started = new PageTestApi(database, virtualHost, api);
        await started.Customers.EnsurePoolsAsync(pools);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
    }
}
