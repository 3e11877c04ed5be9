using System.Net;
using System.Net.Http.Json;
using ControlPlane.Testing;
using Microsoft.Playwright;
using static ControlPlane.Testing.CustomerApiClient;
using static Dashboard.Tests.PageChecks;

namespace Dashboard.Tests;

/// <summary>
/// The audit log page in Chromium against the real API: writes made through the REST API and
/// through the dashboard, told apart by their interface; the REST filters, <c>action.result</c>
/// among them; 25 entries a page with links that keep the filters; names with markup as text.
/// </summary>
[Collection("browser")]
public sealed class AuditLogPageTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
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
    public async Task WritesThroughTheApiAndTheDashboard_AreListedWithTheirInterface_AndAMarkupNameIsText()
    {
        const string name = "<img src=x onerror=alert(1)>";
        var (account, token) = await customers.NewTenantAsync("Audited");
        var zoneName = $"a{Guid.NewGuid():N}"[..12] + ".example.com";
        using (var client = customers.As(token))
        {
            await CreateZoneAsync(client, account, zoneName);
        }

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        var violations = CspViolations(page);
        await SignInAsync(page, token);
        await page.GotoAsync("dashboard/tokens");
        await page.GetByLabel("Token name").FillAsync(name);
        await page.GetByLabel("Zone Read", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await page.Locator("#token-secret").WaitForAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Audit log" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Audit log", Level = 1 }).WaitForAsync();

        // Newest first: the dashboard's token (UI), then the REST API's zone, the operator's token and account (API).
        var rows = await RowsAsync(page);
        Assert.Equal(
            [("token.create", "succeeded", "UI", name), ("zone.create", "succeeded", "API", zoneName), ("token.create", "succeeded", "API", "test token"), ("account.create", "succeeded", "API", "Audited")],
            rows.Select(r => (r[2], r[3], r[6], r[7])));
        Assert.StartsWith("API token ", rows[0][1], StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Empty(dialogs);
        Assert.Equal("4 entries, page 1 of 1", (await page.Locator("caption").InnerTextAsync()).Trim());
        Assert.Empty(await UnnamedControlsAsync(page));
        await BrowserFixture.SaveScreenshotAsync(page);
        Assert.Empty(violations);
    }

    [Fact]
    public async Task ResultFalse_ListsExactlyTheFailedAndDeniedWrites_AndBadQueryValuesShowAnAlertNotAnError()
    {
        var (account, token) = await customers.NewTenantAsync("Failing");
        using var client = customers.As(token);
        var zoneId = (await CreateZoneAsync(client, account, $"f{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        var readOnly = await IssueTokenAsync(client, $"/client/v4/accounts/{account}/tokens", account, [ZoneRead]);
        using (var denied = customers.As(readOnly))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await denied.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value = "on" })).StatusCode);
        }

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsync(page, token);
        // A failed write on a dashboard page: a zone name the API refuses.
        await page.GetByLabel("Zone name").FillAsync("not a zone name");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add zone" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).WaitForAsync();

        await page.GotoAsync("dashboard/audit-log");
        Assert.Equal(6, (await RowsAsync(page)).Length);
        await page.GetByLabel("Result", new() { Exact = true }).SelectOptionAsync("false");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("caption")).ToContainTextAsync("2 entries matching the filters");

        Assert.Contains("action.result=false", page.Url, StringComparison.Ordinal);
        var rows = await RowsAsync(page);
        Assert.Equal([("zone.create", "failed", "UI"), ("zone.settings.update", "failed", "API")], rows.Select(r => (r[2], r[3], r[6])));
        Assert.Equal($"zone_setting {zoneId}", rows[1][4]);
        Assert.All(rows, r => Assert.NotEqual("", r[7]));
        Assert.Equal("false", await page.GetByLabel("Result", new() { Exact = true }).InputValueAsync());
        Assert.Empty(await UnnamedControlsAsync(page));

        foreach (var (query, message) in new[]
        {
            ("action.result=maybe", "action.result must be true or false."),
            ("since=yesterday", "since must be an RFC 3339 date and time"),
            ("page=0", "page must be an integer from 1 to 100000"),
            ("page=two", "page must be an integer from 1 to 100000"),
            ("actor.ip=300.1.1.1", "actor.ip must be an IPv4 or IPv6 address or CIDR prefix"),
        })
        {
            var response = await page.GotoAsync("dashboard/audit-log?" + query);
            Assert.Equal(200, response!.Status);
            Assert.Contains(message, await page.GetByRole(AriaRole.Alert).InnerTextAsync(), StringComparison.Ordinal);
            Assert.Equal(0, await page.Locator("table").CountAsync());
        }

        Assert.Empty(violations);
    }

    [Fact]
    public async Task MoreThan25Entries_Page2HasTheRest_AndTheLinksKeepTheFilters()
    {
        var (account, token) = await customers.NewTenantAsync("Paged");
        using var client = customers.As(token);
        var zoneId = (await CreateZoneAsync(client, account, $"p{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;
        for (var i = 0; i < 28; i++)
        {
            await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}", new { paused = i % 2 == 0 }));
        }

        var updates = (await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=zone.update&direction=asc")))
            .EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(28, updates.Count);

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsync(page, token);
        await page.GotoAsync("dashboard/audit-log");
        await page.GetByLabel("Action", new() { Exact = true }).FillAsync("zone.update");
        await page.GetByLabel("Order").SelectOptionAsync("asc");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("caption")).ToHaveTextAsync("28 entries matching the filters, page 1 of 2");
        var first = await IdsAsync(page);
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).CountAsync());

        await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Assertions.Expect(page.Locator("caption")).ToHaveTextAsync("28 entries matching the filters, page 2 of 2");
        var second = await IdsAsync(page);

        Assert.Equal(updates.Take(25), first);
        Assert.Equal(updates.Skip(25), second);
        Assert.Contains("action.type=zone.update", page.Url, StringComparison.Ordinal);
        Assert.Contains("direction=asc", page.Url, StringComparison.Ordinal);
        Assert.Equal("zone.update", await page.GetByLabel("Action", new() { Exact = true }).InputValueAsync());
        Assert.All(await RowsAsync(page), r => Assert.Equal("zone.update", r[2]));
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).CountAsync());

        // And back, with the filters still on.
        await page.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).ClickAsync();
        await Assertions.Expect(page.Locator("caption")).ToHaveTextAsync("28 entries matching the filters, page 1 of 2");
        Assert.Equal(first, await IdsAsync(page));
        Assert.Empty(await UnnamedControlsAsync(page));
        await BrowserFixture.SaveScreenshotAsync(page);
        Assert.Empty(violations);
    }

    /// <summary>The text of every cell of the log's rows: time, actor, action, result, resource, zone, interface, details.</summary>
    private static async Task<string[][]> RowsAsync(IPage page) => await page.EvaluateAsync<string[][]>(
        "() => [...document.querySelectorAll('table tbody tr')].map(r => [...r.cells].map(c => c.innerText.trim()))");

    private static async Task<List<string>> IdsAsync(IPage page) =>
        [.. await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('tr[data-audit]')].map(r => r.dataset.audit)")];

    public async Task DisposeAsync() => await host.DisposeAsync();

    public void Dispose() => api.Dispose();
}
