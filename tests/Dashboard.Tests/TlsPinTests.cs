using ControlPlane.Testing;
using Microsoft.Playwright;

namespace Dashboard.Tests;

/// <summary>
/// The browser's pin is to one key, not a switch that turns verification off: an API
/// serving any other certificate, even one just as valid for 127.0.0.1, is refused.
/// </summary>
[Collection("browser")]
public sealed class TlsPinTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates otherCertificates = new();
    private TestDatabase database = null!;
    private TestVirtualHost virtualHost = null!;
    private ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        virtualHost = await TestVirtualHost.CreateAsync();
        api = new ApiFactory(otherCertificates, database.ConnectionString, virtualHost.AmqpUri);
        api.StartServer();
    }

    [Fact]
    public async Task Navigation_ToServerWithUnpinnedCertificate_FailsOnTheCertificate()
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var error = await Assert.ThrowsAsync<PlaywrightException>(() =>
            page.GotoAsync(new Uri(api.BaseAddress, "swagger/index.html").ToString()));

        Assert.Contains("net::ERR_CERT_AUTHORITY_INVALID", error.Message, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await virtualHost.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose()
    {
        api.Dispose();
        otherCertificates.Dispose();
    }
}
