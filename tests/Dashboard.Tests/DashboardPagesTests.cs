using System.Net.Http.Json;
using ControlPlane.Testing;
using Microsoft.Playwright;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;
using static Dashboard.Tests.PageChecks;

namespace Dashboard.Tests;

/// <summary>The dashboard in Chromium against the real API: sign-in by keyboard, zones, labels, the CSP in force, the operator's fleet.</summary>
[Collection("browser")]
public sealed class DashboardPagesTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
{
    private PageTestApi host = null!;
    private ApiFactory api = null!;
    private CustomerApiClient customers = null!;

    public async Task InitializeAsync()
    {
        host = await PageTestApi.StartAsync(browser);
        api = host.Api;
        customers = host.Customers;
    }

    [Fact]
    public async Task SignInWithTheKeyboardAlone_CreateAZone_AndSeeItListed()
    {
        var (_, token) = await customers.NewTenantAsync("Browser");
        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);

        await page.GotoAsync("dashboard/zones");
        Assert.EndsWith("/dashboard/sign-in?ReturnUrl=%2Fdashboard%2Fzones", page.Url, StringComparison.Ordinal);
        // Keyboard only: Tab reaches the token field, Enter submits.
        for (var i = 0; i < 10 && await page.EvaluateAsync<string>("document.activeElement?.id ?? ''") != "token"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("token", await page.EvaluateAsync<string>("document.activeElement?.id ?? ''"));
        await page.Keyboard.TypeAsync(token);
        await page.Keyboard.PressAsync("Enter");
        await page.GetByRole(AriaRole.Heading, new() { Name = "Zones" }).WaitForAsync();

        var name = $"b{Guid.NewGuid():N}"[..12] + ".example.com";
        await page.GetByLabel("Zone name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add zone" }).ClickAsync();
        await page.GetByRole(AriaRole.Cell, new() { Name = name }).WaitForAsync();

        await BrowserFixture.SaveScreenshotAsync(page);
        Assert.Empty(await UnnamedControlsAsync(page));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task SignInPage_EveryControlHasAnAccessibleName_AndTheStylesheetsLoadUnderTheCsp()
    {
        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        var stylesheets = new List<IResponse>();
        page.Response += (_, response) =>
        {
            if (response.Url.EndsWith(".css", StringComparison.Ordinal))
            {
                stylesheets.Add(response);
            }
        };

        var response = await page.GotoAsync("dashboard/sign-in");

        Assert.Contains("frame-ancestors 'none'", (await response!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        Assert.Empty(await UnnamedControlsAsync(page));
        Assert.Equal(2, stylesheets.Count(s => s.Status == 200));
        Assert.Empty(violations);
        await BrowserFixture.SaveScreenshotAsync(page);
    }

    [Fact]
    public async Task OperatorFleet_ShowsADataCenterWhoseAgentStoppedReporting_AsStale()
    {
        using (var op = customers.Operator())
        {
            await ResultAsync(await op.PostAsJsonAsync("/operator/v1/data_centers", new { code = "ams", name = "Amsterdam" }));
        }

        // The row a stopped agent leaves: its last report, a minute ago (Status:StaleAfter is 30 s by default).
        await using (var connection = new NpgsqlConnection(host.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO edge_agent_statuses (data_center, agent_version, ready, reported_at, received_at, watermark, failures, drift_repairs, loop_failures)
                VALUES ('ams', '0.1.0', true, now() - interval '1 minute', now() - interval '1 minute', 0, '[]', 0, 0)
                """, connection);
            await insert.ExecuteNonQueryAsync();
        }

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("dashboard/sign-in");
        await page.GetByLabel("API token").FillAsync(api.OperatorToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Fleet" }).WaitForAsync();

        Assert.Equal("stale", (await page.Locator("tr[data-dc=ams] td").Nth(1).InnerTextAsync()).Trim());
        // The operator's navigation leads to the operator's pages only.
        Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = "Fleet" }).CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Zones" }).CountAsync());
        await BrowserFixture.SaveScreenshotAsync(page);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    public void Dispose() => api.Dispose();
}
