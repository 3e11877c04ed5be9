using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>One running API, with its own database and vhost, shared by the tests of the "api" collection.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();

    public TestDatabase Database { get; private set; } = null!;

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public ApiFactory Factory { get; private set; } = null!;

    public CustomerApiClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateMigratedAsync();
        VirtualHost = await TestVirtualHost.CreateAsync();
        Factory = new ApiFactory(Certificates, Database.ConnectionString, VirtualHost.AmqpUri);
        Factory.StartServer();
        Api = new CustomerApiClient(Factory);
        await Api.EnsurePoolsAsync();
    }

    public async Task DisposeAsync()
    {
        // CP_TEST_LOGS=path keeps the API's log of the run, for debugging a failure.
        if (Environment.GetEnvironmentVariable("CP_TEST_LOGS") is { Length: > 0 } path)
        {
            await File.WriteAllLinesAsync(path, Factory.Logs.Lines);
        }

        await Factory.DisposeAsync();
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
        Certificates.Dispose();
    }
}

[CollectionDefinition("api")]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>;
