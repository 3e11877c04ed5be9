using System.Net;
using System.Net.Http.Json;
using ControlPlane.Api.Features.Dashboard;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>
/// The dashboard over plain HTTPS, as a browser without scripts would use it: headers, the
/// server-side session, antiforgery. The browser tests (tests/Dashboard.Tests) drive Chromium.
/// </summary>
[Collection("api")]
public sealed class DashboardTests(ApiFixture api)
{
    [Theory]
    [InlineData("/dashboard/sign-in")]
    [InlineData("/_content/MudBlazor/MudBlazor.min.css")]
    [InlineData("/dashboard-assets/dashboard.css")]
    public async Task Responses_CarryTheCspFramingAndHstsHeaders(string path)
    {
        using var client = api.Factory.CreateHttpsClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline' ; script", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal(DashboardSetup.ContentSecurityPolicy, csp);
        Assert.Equal("DENY", string.Join(";", response.Headers.GetValues("X-Frame-Options")));
        Assert.StartsWith("max-age=", string.Join(";", response.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard/sign-in")]
    [InlineData("/dashboard/zones")]
    [InlineData("/client/v4/zones")]
    public async Task Responses_CarryServerTiming_InMilliseconds(string path)
    {
        using var client = api.Factory.CreateHttpsClient();

        using var response = await client.GetAsync(path);

        // A page that needs a session redirects, the API without a token is 401: timed all the same.
        var timing = Assert.Single(response.Headers.GetValues("Server-Timing"));
        var match = System.Text.RegularExpressions.Regex.Match(timing, @"^app;dur=(\d+\.\d)$");
        Assert.True(match.Success, timing);
        var milliseconds = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(milliseconds, 0, 60_000);
    }

    [Fact]
    public async Task SignIn_WithAToken_GivesAnOpaqueSessionCookie_ThatSignOutKills()
    {
        var (_, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);

        var zones = await browser.SignInAsync(token);

        Assert.Equal(HttpStatusCode.OK, zones.StatusCode);
        Assert.Contains("<h1>Zones</h1>", await zones.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var cookie = browser.SessionCookie!;
        Assert.Matches("^__Host-cp-dashboard=", cookie.Split(';')[0]);
        Assert.DoesNotContain(token, cookie, StringComparison.Ordinal);
        var setCookie = browser.LastSetCookie!;
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);

        // A copy of the cookie, taken before signing out, is dead afterwards: the session row is gone.
        using var copy = new DashboardBrowser(api.Factory, cookie);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/dashboard/zones")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignOutAsync()).StatusCode);
        var after = await copy.GetAsync("/dashboard/zones");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/dashboard/sign-in", after.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_PostedWithoutTheAntiforgeryToken_IsRefused_AndSignsNobodyIn()
    {
        var (_, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);

        var response = await browser.PostFormAsync("/dashboard/sign-in", new() { ["_handler"] = "sign-in", ["Form.Token"] = token });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task SignOut_PostedWithoutTheAntiforgeryToken_IsRefused_AndTheSessionLives()
    {
        var (_, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        var response = await browser.PostFormAsync("/dashboard/sign-out", []);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard/zones")).StatusCode);
    }

    [Fact]
    public async Task RevokedToken_EndsItsSession_AtTheNextPage()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);
        using var customer = api.Api.As(token);
        var tokenId = (await CustomerApiClient.ResultAsync(await customer.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await customer.DeleteAsync($"/client/v4/accounts/{account}/tokens/{tokenId}")).StatusCode);

        var after = await browser.GetAsync("/dashboard/zones");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/dashboard/sign-in", after.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASessionMadeOnOneReplica_WorksOnAnother_ThroughTheSharedKeysAndSessionStore()
    {
        var (_, token) = await api.Api.NewTenantAsync("Dashboard");
        using var onFirst = new DashboardBrowser(api.Factory);
        await onFirst.SignInAsync(token);
        await using var second = new ApiFactory(api.Certificates, api.Database.ConnectionString, api.VirtualHost.AmqpUri);
        second.StartServer();

        using var onSecond = new DashboardBrowser(second, onFirst.SessionCookie);
        var zones = await onSecond.GetAsync("/dashboard/zones");

        Assert.Equal(HttpStatusCode.OK, zones.StatusCode);
        Assert.Contains("<h1>Zones</h1>", await zones.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongToken_IsRefusedWith401_AndNoCookie()
    {
        using var browser = new DashboardBrowser(api.Factory);

        var response = await browser.SignInAsync("cpat_not_a_token");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not valid here", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(browser.SessionCookie);
    }

    [Fact]
    public async Task ZonePage_CreatesAZone_ThroughTheApisRules_AndListsIt()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);
        var name = $"d{Guid.NewGuid():N}"[..12] + ".example.com";

        var form = await browser.GetAsync("/dashboard/zones");
        var created = await browser.SubmitAsync(form, "create-zone", new() { ["Create.Name"] = name }, "/dashboard/zones");

        var listed = await created.Content.ReadAsStringAsync();
        Assert.Contains(name, listed, StringComparison.Ordinal);
        Assert.Contains("<td>served</td>", listed, StringComparison.Ordinal);
        var bad = await browser.SubmitAsync(await browser.GetAsync("/dashboard/zones"), "create-zone", new() { ["Create.Name"] = "<script>x</script>" }, "/dashboard/zones");
        var html = await bad.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>x</script>", html, StringComparison.Ordinal);
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);

        // The refused write is audited, as the API audits its failed writes: result false, status 400.
        using var client = api.Api.As(token);
        var entries = await CustomerApiClient.ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=zone.create"));
        var failed = Assert.Single(entries.EnumerateArray(), e => !e.GetProperty("action").GetProperty("result").GetBoolean());
        Assert.Equal(400, failed.GetProperty("metadata").GetProperty("status").GetInt32());
        Assert.Equal("/dashboard/zones", failed.GetProperty("metadata").GetProperty("route").GetString());
    }

    [Theory]
    [InlineData("\0")]
    [InlineData("\u0001")]
    [InlineData("\u009f")]
    public async Task AFormFieldWithAControlCharacter_IsRefusedWith400_AndCreatesNothing(string control)
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        var zone = await browser.SubmitAsync(await browser.GetAsync("/dashboard/zones"), "create-zone", new() { ["Create.Name"] = $"a{control}b.example.com" }, "/dashboard/zones");
        var named = await browser.SubmitAsync(await browser.GetAsync("/dashboard/tokens"), "create-token",
            new() { ["Create.Name"] = $"ci{control}deploy", ["Create.Groups"] = CustomerApiClient.ZoneRead, ["Create.Scope"] = "all" }, "/dashboard/tokens");

        Assert.Equal(HttpStatusCode.BadRequest, zone.StatusCode);
        // ASP.NET's form reader already refuses a NUL (the antiforgery check fails on such a form);
        // other control characters reach RequestInputGuard, which names the field.
        if (control != "\0")
        {
            Assert.Contains($"Form field 'Create.Name' contains the control character U+{(int)control[0]:X4}", await zone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.BadRequest, named.StatusCode);
        using var client = api.Api.As(token);
        Assert.Equal(0, (await CustomerApiClient.ResultAsync(await client.GetAsync($"/client/v4/zones?account.id={account}"))).GetArrayLength());
        // The tenant's own token is its only one.
        Assert.Equal(1, (await CustomerApiClient.ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens"))).GetArrayLength());
    }

    [Fact]
    public async Task TokensPage_NamesOnlyTheZonesTheSignedInTokenMayRead()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var admin = api.Api.As(token);
        var readableName = $"r{Guid.NewGuid():N}"[..12] + ".example.com";
        var hiddenName = $"h{Guid.NewGuid():N}"[..12] + ".example.com";
        var readable = (await CustomerApiClient.CreateZoneAsync(admin, account, readableName)).GetProperty("id").GetString()!;
        var hidden = (await CustomerApiClient.CreateZoneAsync(admin, account, hiddenName)).GetProperty("id").GetString()!;
        var route = $"/client/v4/accounts/{account}/tokens";
        await CustomerApiClient.IssueTokenAsync(admin, route, account, [CustomerApiClient.ZoneRead], [$"com.cloudflare.api.account.zone.{hidden}"]);
        await CustomerApiClient.IssueTokenAsync(admin, route, account, [CustomerApiClient.ZoneRead], [$"com.cloudflare.api.account.zone.{readable}"]);
        // API Tokens Write on the account, Zone Read on one zone only.
        var limited = await CustomerApiClient.ResultAsync(await admin.PostAsJsonAsync(route, new
        {
            name = "limited",
            policies = new object[]
            {
                new { effect = "allow", permission_groups = new[] { new { id = CustomerApiClient.TokensWrite } }, resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{account}"] = "*" } },
                new { effect = "allow", permission_groups = new[] { new { id = CustomerApiClient.ZoneRead } }, resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.zone.{readable}"] = "*" } },
            },
        }));
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(limited.GetProperty("value").GetString()!);

        var html = await (await browser.GetAsync("/dashboard/tokens")).Content.ReadAsStringAsync();

        Assert.Contains(readableName, html, StringComparison.Ordinal);
        Assert.Contains($"zone {hidden}", html, StringComparison.Ordinal);
        Assert.DoesNotContain(hiddenName, html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard/zones?page=abc")]
    [InlineData("/dashboard/zones?page=99999999999")]
    [InlineData("/dashboard/zones?page=0")]
    [InlineData("/dashboard/tokens?page=abc")]
    [InlineData("/dashboard/tokens?page=-1")]
    public async Task ABadPageNumber_IsAMessage_NotAnError(string path)
    {
        var (_, token) = await api.Api.NewTenantAsync("Dashboard");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        using var response = await browser.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);
        Assert.Contains("page must be", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZonePage_WithAFollowValueThatIsNotABoolean_Renders()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var client = api.Api.As(token);
        var zone = await CustomerApiClient.CreateZoneAsync(client, account, $"f{Guid.NewGuid():N}"[..12] + ".example.com");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        using var response = await browser.GetAsync($"/dashboard/zones/{zone.GetProperty("id").GetString()}?follow=maybe");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("id=\"setting-value\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "last 24 hours")]
    [InlineData("?range=7d", "last 7 days")]
    [InlineData("?range=30d", "last 30 days")]
    [InlineData("?range=%3Cscript%3E", "last 24 hours")]
    public async Task ZonePage_ShowsTheTrafficTable_ForEachRange_AndAnUnknownRangeAsTheDefault(string query, string caption)
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var client = api.Api.As(token);
        var zone = await CustomerApiClient.ResultAsync(await client.PostAsJsonAsync("/client/v4/zones", new { name = $"t{Guid.NewGuid():N}"[..12] + ".example.com", account = new { id = account } }));
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        var page = await browser.GetAsync($"/dashboard/zones/{zone.GetProperty("id").GetString()}{query}");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains($"Plaintext connection attempts, {caption}</caption>", html, StringComparison.Ordinal);
        Assert.Contains("<td id=\"traffic-attempted-total\">0</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZonePage_DeletesTheZone_AfterTheConfirmStep_ThroughTheApisHandler()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard");
        using var client = api.Api.As(token);
        var name = $"x{Guid.NewGuid():N}"[..12] + ".example.com";
        var zoneId = (await CustomerApiClient.ResultAsync(await client.PostAsJsonAsync("/client/v4/zones", new { name, account = new { id = account } }))).GetProperty("id").GetString();
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        // The zone page links to the confirm step; the form exists only there.
        var page = await (await browser.GetAsync($"/dashboard/zones/{zoneId}")).Content.ReadAsStringAsync();
        Assert.Contains($"href=\"/dashboard/zones/{zoneId}?delete=confirm\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Confirm: delete", page, StringComparison.Ordinal);
        var confirm = await browser.GetAsync($"/dashboard/zones/{zoneId}?delete=confirm");
        var deleted = await browser.SubmitAsync(confirm, "delete", [], $"/dashboard/zones/{zoneId}?delete=confirm");

        Assert.Contains($"Deleted {name}.", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The notice is the zone's own: a crafted link, or a live zone's id, announces nothing.
        var (_, otherToken) = await api.Api.NewTenantAsync("Dashboard");
        var live = (await CustomerApiClient.CreateZoneAsync(client, account, $"l{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString();
        foreach (var crafted in new[] { "evil.example.com", live })
        {
            Assert.DoesNotContain("id=\"deleted\"", await (await browser.GetAsync($"/dashboard/zones?deleted={crafted}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var otherBrowser = new DashboardBrowser(api.Factory);
        await otherBrowser.SignInAsync(otherToken);
        Assert.DoesNotContain(name, await (await otherBrowser.GetAsync($"/dashboard/zones?deleted={zoneId}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/client/v4/zones/{zoneId}")).StatusCode);
        var entries = await CustomerApiClient.ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=zone.delete"));
        Assert.True(Assert.Single(entries.EnumerateArray()).GetProperty("action").GetProperty("result").GetBoolean());
    }
}
