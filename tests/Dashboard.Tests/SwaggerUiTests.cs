using ControlPlane.Testing;
using Microsoft.Playwright;

namespace Dashboard.Tests;

/// <summary>
/// The whole browser chain against the real API: Debian's Chromium, the Playwright
/// driver, and TLS pinned to the test certificate.
/// </summary>
[Collection("browser")]
public sealed class SwaggerUiTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
{
    private TestDatabase database = null!;
    private TestVirtualHost virtualHost = null!;
    private ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        virtualHost = await TestVirtualHost.CreateAsync();
        api = new ApiFactory(browser.Certificates, database.ConnectionString, virtualHost.AmqpUri);
        api.StartServer();
    }

    [Fact]
    public async Task SwaggerUi_OverPinnedTls_ShowsTitleAndZoneOperations()
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(new Uri(api.BaseAddress, "swagger/index.html").ToString());

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        // Swagger UI renders the operations from /openapi/v1.json after the page loads.
        var zones = page.Locator(".opblock-summary-path").GetByText("/client/v4/zones", new() { Exact = true }).First;
        await zones.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        Assert.Equal("Edge control plane API", await page.TitleAsync());
        var screenshot = await BrowserFixture.SaveScreenshotAsync(page);
        Assert.True(new FileInfo(screenshot).Length > 0);
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await virtualHost.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose() => api.Dispose();
}
