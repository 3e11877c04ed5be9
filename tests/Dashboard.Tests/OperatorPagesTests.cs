using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static ControlPlane.Testing.CustomerApiClient;
using static Dashboard.Tests.PageChecks;

namespace Dashboard.Tests;

/// <summary>
/// The operator's address pools and accounts pages in Chromium against the real API: exact
/// allocated, quarantined and free counts of a pool the test fills, the warning from 80%
/// allocated, zone counts, the create forms (failed writes audited as the dashboard's), and
/// no way in for a customer.
/// </summary>
[Collection("browser")]
public sealed class OperatorPagesTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
{
    private const string SmallPool = "192.0.2.0/29";

    private PageTestApi host = null!;
    private ApiFactory api = null!;
    private CustomerApiClient customers = null!;

    public async Task InitializeAsync()
    {
        // A /29 has 6 usable IPv4 addresses: 4 allocated is 67%, 5 is 83%.
        host = await PageTestApi.StartAsync(browser, SmallPool, "2001:db8:100::/120");
        api = host.Api;
        customers = host.Customers;
    }

    [Fact]
    public async Task AddressPools_ShowExactAllocatedQuarantinedAndFree_AndWarnFrom80PercentAllocated()
    {
        var (account, token) = await customers.NewTenantAsync("Pools");
        using var client = customers.As(token);
        var zones = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            zones.Add(await NewZoneAsync(client, account));
        }

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsOperatorAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Address pools" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Address pools", Level = 1 }).WaitForAsync();

        Assert.Equal(["192.0.2.0/29", "ipv4", "6", "4", "0", "2", "67%"], await PoolRowAsync(page, SmallPool));
        Assert.Equal(0, await page.Locator("[data-pool-warning]").CountAsync());

        // Deleting a zone quarantines its address: still not free, no longer allocated.
        await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{zones[0]}"));
        await page.ReloadAsync();
        Assert.Equal(["192.0.2.0/29", "ipv4", "6", "3", "1", "2", "50%"], await PoolRowAsync(page, SmallPool));
        Assert.Equal(0, await page.Locator("[data-pool-warning]").CountAsync());

        // 4 of 6 is under 80%; 5 of 6 is over it. The quarantined address is not reused.
        await NewZoneAsync(client, account);
        await page.ReloadAsync();
        Assert.Equal(["192.0.2.0/29", "ipv4", "6", "4", "1", "1", "67%"], await PoolRowAsync(page, SmallPool));
        Assert.Equal(0, await page.Locator("[data-pool-warning]").CountAsync());
        await NewZoneAsync(client, account);
        await page.ReloadAsync();
        Assert.Equal(["192.0.2.0/29", "ipv4", "6", "5", "1", "0", "83% (nearly full)"], await PoolRowAsync(page, SmallPool));
        var warning = page.GetByRole(AriaRole.Status).Filter(new() { HasText = SmallPool });
        Assert.Contains("is 83% allocated (5 of 6 addresses), at or above 80%", await warning.InnerTextAsync(), StringComparison.Ordinal);
        // Only that pool: the IPv6 one has 5 of 255 allocated.
        Assert.Equal([SmallPool], await page.Locator("[data-pool-warning]").EvaluateAllAsync<string[]>("ws => ws.map(w => w.dataset.poolWarning)"));
        Assert.Equal(["2001:db8:100::/120", "ipv6", "255", "5", "1", "249", "2%"], await PoolRowAsync(page, "2001:db8:100::/120"));

        // The add form goes through the API's handler: its validation, its overlap check, its audit.
        await page.GetByLabel("Pool CIDR").FillAsync("192.0.2.7/24");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add pool" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("is not a CIDR prefix with its host bits zero");
        await page.GetByLabel("Pool CIDR").FillAsync("192.0.2.0/24");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add pool" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("overlaps the existing pool 192.0.2.0/29");
        await page.GetByLabel("Pool CIDR").FillAsync("198.51.100.0/24");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add pool" }).ClickAsync();
        await page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Added pool 198.51.100.0/24" }).WaitForAsync();
        Assert.Equal(["198.51.100.0/24", "ipv4", "254", "0", "0", "254", "0%"], await PoolRowAsync(page, "198.51.100.0/24"));
        Assert.Empty(await UnnamedControlsAsync(page));
        await BrowserFixture.SaveScreenshotAsync(page);

        await using var db = host.Database.CreateContext();
        var audits = await db.AuditLogs.Where(a => a.ActionType == "address_pool.create").OrderBy(a => a.When).ToListAsync();
        // The two pools EnsurePoolsAsync added through the API, then the page's two failures and its success.
        Assert.Equal([(true, "API"), (true, "API"), (false, "UI"), (false, "UI"), (true, "UI")], audits.Select(a => (a.ActionResult, a.Interface)));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task Accounts_ListTheirZoneCounts_CreateOnThePage_AndACustomerCannotOpenOperatorPages()
    {
        var (zoned, token) = await customers.NewTenantAsync("Zoned");
        var (empty, _) = await customers.NewTenantAsync("Empty");
        using (var client = customers.As(token))
        {
            var first = await NewZoneAsync(client, zoned);
            await NewZoneAsync(client, zoned);
            await NewZoneAsync(client, zoned);
            // A deleted zone is not counted.
            await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{first}"));
        }

        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsOperatorAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Accounts" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Accounts", Level = 1 }).WaitForAsync();

        Assert.Equal(["Zoned", zoned, "2"], (await AccountRowAsync(page, zoned))[..3]);
        Assert.Equal(["Empty", empty, "0"], (await AccountRowAsync(page, empty))[..3]);

        // An empty name is refused, shown and audited as a failed dashboard write.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        Assert.Contains("name is required", await page.GetByRole(AriaRole.Alert).InnerTextAsync(), StringComparison.Ordinal);
        const string name = "Acme <b>corp</b>";
        await page.GetByLabel("Account name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        var created = page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Created account" });
        Assert.Contains($"“{name}”", await created.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("main b").CountAsync());

        using (var op = customers.Operator())
        {
            var listed = (await ResultAsync(await op.GetAsync("/operator/v1/accounts?per_page=50"))).EnumerateArray()
                .Single(a => a.GetProperty("name").GetString() == name);
            var id = listed.GetProperty("id").GetString()!;
            Assert.Equal(0, listed.GetProperty("zone_count").GetInt64());
            Assert.Equal([name, id, "0"], (await AccountRowAsync(page, id))[..3]);
        }

        Assert.Equal("3 accounts, oldest first, page 1 of 1", (await page.Locator("caption").InnerTextAsync()).Trim());
        Assert.Empty(await UnnamedControlsAsync(page));
        await BrowserFixture.SaveScreenshotAsync(page);
        await using (var db = host.Database.CreateContext())
        {
            var audits = await db.AuditLogs.Where(a => a.ActionType == "account.create" && a.Interface == "UI").OrderBy(a => a.When).ToListAsync();
            Assert.Equal([false, true], audits.Select(a => a.ActionResult));
        }

        Assert.Empty(violations);

        // A customer's session: no operator links, and the operator pages send it to sign in.
        await using var customerContext = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var customerPage = await customerContext.NewPageAsync();
        await customerPage.GotoAsync("dashboard/sign-in");
        await customerPage.GetByLabel("API token").FillAsync(token);
        await customerPage.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await customerPage.GetByRole(AriaRole.Heading, new() { Name = "Zones" }).WaitForAsync();
        Assert.Equal(0, await customerPage.GetByRole(AriaRole.Link, new() { Name = "Address pools" }).CountAsync());
        Assert.Equal(0, await customerPage.GetByRole(AriaRole.Link, new() { Name = "Accounts" }).CountAsync());
        foreach (var path in new[] { "dashboard/accounts", "dashboard/address-pools", "dashboard/fleet" })
        {
            await customerPage.GotoAsync(path);
            Assert.Contains("/dashboard/sign-in", customerPage.Url, StringComparison.Ordinal);
            Assert.Equal(0, await customerPage.Locator("table").CountAsync());
            Assert.DoesNotContain("Zoned", await customerPage.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        }
    }

    private Task SignInAsOperatorAsync(IPage page) => SignInAsync(page, api.OperatorToken, "Fleet");

    private static async Task<string> NewZoneAsync(HttpClient client, string account) =>
        (await CreateZoneAsync(client, account, $"o{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;

    /// <summary>The cells of a pool's row: pool, family, size, allocated, quarantined, free, allocated share.</summary>
    private static async Task<string[]> PoolRowAsync(IPage page, string cidr) =>
        await page.Locator($"tr[data-pool='{cidr}'] td").EvaluateAllAsync<string[]>("cells => cells.map(c => c.innerText.trim())");

    /// <summary>The cells of an account's row: name, id, zones, created.</summary>
    private static async Task<string[]> AccountRowAsync(IPage page, string id) =>
        await page.Locator($"tr[data-account='{id}'] td").EvaluateAllAsync<string[]>("cells => cells.map(c => c.innerText.trim())");

    public async Task DisposeAsync() => await host.DisposeAsync();

    public void Dispose() => api.Dispose();
}
