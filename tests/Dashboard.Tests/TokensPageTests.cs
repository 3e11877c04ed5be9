using System.Net;
using System.Text.Json;
using ControlPlane.Testing;
using Microsoft.Playwright;
using static ControlPlane.Testing.CustomerApiClient;
using static Dashboard.Tests.PageChecks;

namespace Dashboard.Tests;

/// <summary>
/// The API tokens pages in Chromium against the real API: a secret shown once and never again,
/// roll and revoke that the REST API feels at once, <c>condition.request_ip</c> edited on the
/// page, names with markup shown as text, every control named and the CSP without violations.
/// </summary>
[Collection("browser")]
public sealed class TokensPageTests(BrowserFixture browser) : IAsyncLifetime, IDisposable
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
    public async Task CreatedSecret_IsShownOnceWithACopyButton_WorksAgainstTheApi_AndIsNeverShownAgain_RollToo()
    {
        var (account, token) = await customers.NewTenantAsync("Tokens");
        using var admin = customers.As(token);
        var zoneName = $"t{Guid.NewGuid():N}"[..12] + ".example.com";
        var zoneId = (await CreateZoneAsync(admin, account, zoneName)).GetProperty("id").GetString()!;
        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsync(page, token);

        await page.GetByRole(AriaRole.Link, new() { Name = "API tokens" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Level = 1 }).WaitForAsync();
        var secret = await CreateOnPageAsync(page, "ci deploy", ["Zone Read", "Zone Settings Write"], zoneName);

        // The copy button is revealed by copy.js (loaded under script-src 'self'), named, and copies.
        var copy = page.GetByRole(AriaRole.Button, new() { Name = "Copy secret" });
        await copy.WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await copy.ClickAsync();
        await page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Copied" }).WaitForAsync();
        Assert.Equal(secret, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        Assert.Empty(await UnnamedControlsAsync(page));
        await BrowserFixture.SaveScreenshotAsync(page);

        // The secret is a working token, with exactly the groups and zone picked on the page.
        var tokenId = await VerifiedIdAsync(secret);
        var created = await ResultAsync(await admin.GetAsync($"/client/v4/accounts/{account}/tokens/{tokenId}"));
        var policy = Assert.Single(created.GetProperty("policies").EnumerateArray());
        Assert.Equal(new[] { $"com.cloudflare.api.account.zone.{zoneId}" }, policy.GetProperty("resources").EnumerateObject().Select(r => r.Name).ToArray());
        Assert.Equal(new[] { ZoneRead, SettingsWrite }, policy.GetProperty("permission_groups").EnumerateArray().Select(g => g.GetProperty("id").GetString()!).Order().ToArray());

        // Never again: not in the list, not after a reload, not on the token's page.
        await page.GotoAsync("dashboard/tokens");
        await page.GetByRole(AriaRole.Link, new() { Name = "ci deploy" }).WaitForAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#token-secret").CountAsync());
        await page.ReloadAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        // Roll: a new secret, shown once; the old one stops working at once.
        await page.GetByRole(AriaRole.Link, new() { Name = "ci deploy" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll secret" }).ClickAsync();
        var rolled = await page.Locator("#token-secret").InputValueAsync();
        Assert.StartsWith("cpat_", rolled, StringComparison.Ordinal);
        Assert.NotEqual(secret, rolled);
        Assert.Equal(tokenId, await VerifiedIdAsync(rolled));
        using (var old = customers.As(secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("/client/v4/user/tokens/verify")).StatusCode);
        }

        await page.GotoAsync($"dashboard/tokens/{tokenId}");
        await page.GetByRole(AriaRole.Heading, new() { Name = "ci deploy" }).WaitForAsync();
        var later = await page.ContentAsync();
        Assert.DoesNotContain(rolled, later, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, later, StringComparison.Ordinal);
        Assert.Empty(await UnnamedControlsAsync(page));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task TokenNamedWithMarkup_IsShownAsText_AndRunsNothing()
    {
        const string name = "<img src=x onerror=alert(1)>";
        var (_, token) = await customers.NewTenantAsync("Tokens");
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

        await CreateOnPageAsync(page, name, ["Zone Read"]);

        var link = page.Locator("table").GetByRole(AriaRole.Link, new() { Name = name, Exact = true });
        Assert.Equal(name, await link.InnerTextAsync());
        Assert.Equal(0, await page.Locator("table img").CountAsync());
        Assert.Equal(0, await page.Locator("img").CountAsync());
        await link.ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true, Level = 1 }).WaitForAsync();
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Empty(dialogs);
        Assert.Empty(violations);
    }

    [Fact]
    public async Task IpConditionSetOnThePage_IsTheTokensCondition_AndRevokeAfterConfirm_EndsTheToken()
    {
        var (account, token) = await customers.NewTenantAsync("Tokens");
        using var admin = customers.As(token);
        var route = $"/client/v4/accounts/{account}/tokens";
        var limited = await IssueTokenAsync(admin, route, account, [ZoneRead]);
        var limitedId = await VerifiedIdAsync(limited);
        var doomed = await IssueTokenAsync(admin, route, account, [ZoneRead]);
        var doomedId = await VerifiedIdAsync(doomed);
        await using var context = await browser.NewContextAsync(new() { BaseURL = api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var violations = CspViolations(page);
        await SignInAsync(page, token);

        // condition.request_ip: a typo'd prefix is refused on the page, a good one is saved through PUT.
        await page.GotoAsync($"dashboard/tokens/{limitedId}");
        await page.GetByLabel("Allowed addresses").FillAsync("10.0.0.1/8");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save IP condition" }).ClickAsync();
        Assert.Contains("condition.request_ip.in", await page.GetByRole(AriaRole.Alert).InnerTextAsync(), StringComparison.Ordinal);
        await page.GetByLabel("Allowed addresses").FillAsync("192.0.2.0/24\n2001:db8::/32");
        await page.GetByLabel("Denied addresses").FillAsync("192.0.2.7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save IP condition" }).ClickAsync();
        await page.GetByRole(AriaRole.Status).Filter(new() { HasText = "IP condition saved" }).WaitForAsync();

        var condition = (await ResultAsync(await admin.GetAsync($"{route}/{limitedId}"))).GetProperty("condition").GetProperty("request_ip");
        Assert.Equal("192.0.2.0/24 2001:db8::/32", Strings(condition.GetProperty("in")));
        Assert.Equal("192.0.2.7", Strings(condition.GetProperty("not_in")));
        using (var fromLoopback = customers.As(limited))
        {
            // 127.0.0.1 is outside the allowed list now: 403, as the API refuses a token used from the wrong location.
            Assert.Equal(HttpStatusCode.Forbidden, (await fromLoopback.GetAsync("/client/v4/user/tokens/verify")).StatusCode);
        }

        // Revoke: a first button asks, a second confirms; then the token is refused by the API.
        await page.GotoAsync($"dashboard/tokens/{doomedId}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke token…" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Button, new() { Name = "Confirm: revoke token" });
        await confirm.WaitForAsync();
        Assert.Empty(await UnnamedControlsAsync(page));
        using (var before = customers.As(doomed))
        {
            Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/client/v4/user/tokens/verify")).StatusCode);
        }

        await confirm.ClickAsync();
        await page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Token revoked" }).WaitForAsync();
        Assert.Equal("disabled", await page.Locator("#token-status").InnerTextAsync());
        using (var after = customers.As(doomed))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await after.GetAsync("/client/v4/user/tokens/verify")).StatusCode);
        }

        Assert.Equal("disabled", (await ResultAsync(await admin.GetAsync($"{route}/{doomedId}"))).GetProperty("status").GetString());
        Assert.Empty(await UnnamedControlsAsync(page));
        Assert.Empty(violations);
    }

    /// <summary>Fills the create form (groups by their labels, optionally one zone by name) and returns the secret the answer shows.</summary>
    private static async Task<string> CreateOnPageAsync(IPage page, string name, string[] groups, string? zone = null)
    {
        await page.GetByLabel("Token name").FillAsync(name);
        foreach (var group in groups)
        {
            await page.GetByLabel(group, new() { Exact = true }).CheckAsync();
        }

        if (zone is not null)
        {
            await page.GetByLabel("Only these zones").CheckAsync();
            await page.GetByLabel("Zones (names or ids").FillAsync(zone);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secret = await page.Locator("#token-secret").InputValueAsync();
        Assert.StartsWith("cpat_", secret, StringComparison.Ordinal);
        return secret;
    }

    /// <summary>The id of the token <paramref name="secret"/> belongs to, as GET /user/tokens/verify answers (which fails when it does not verify).</summary>
    private async Task<string> VerifiedIdAsync(string secret)
    {
        using var client = customers.As(secret);
        var verified = await ResultAsync(await client.GetAsync("/client/v4/user/tokens/verify"));
        Assert.Equal("active", verified.GetProperty("status").GetString());
        return verified.GetProperty("id").GetString()!;
    }

    /// <summary>A JSON array of strings, joined with spaces.</summary>
    private static string Strings(JsonElement array) => string.Join(' ', array.EnumerateArray().Select(e => e.GetString()));

    public async Task DisposeAsync() => await host.DisposeAsync();

    public void Dispose() => api.Dispose();
}
