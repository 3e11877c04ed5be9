using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>One running API, with its own database and vhost, shared by the tests of the "api" collection.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();

    public TestDatabase Database { get; private set; } = null!;

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public ApiFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateMigratedAsync();
        VirtualHost = await TestVirtualHost.CreateAsync();
        Factory = new ApiFactory(Certificates, Database.ConnectionString, VirtualHost.AmqpUri);
        Factory.StartServer();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
        Certificates.Dispose();
    }
}

[CollectionDefinition("api")]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>;
