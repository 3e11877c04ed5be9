using System.Net.Sockets;
using ControlPlane.Testing;
using Microsoft.Playwright;
using static ControlPlane.Testing.CustomerApiClient;

namespace Dashboard.Tests;

/// <summary>
/// Opting a zone in from the dashboard, end to end: real plaintext connections from each DC's
/// client namespace, the preview counting them, the confirm, the rollout streamed to 3/3 applied,
/// and port 80 refused while 443 is served; the traffic chart's text shows the exact counts of
/// those connections, attempted and blocked, per DC and in total, over each range.
/// </summary>
[Collection("browser")]
public sealed class OptInTests(BrowserFixture browser)
{
    [Fact]
    public async Task SwitchOn_PreviewCountsRealTraffic_ConfirmRollsOutTo3Of3_Port80RefusedAnd443Served()
    {
        await using var lab = await PropagationLab.StartAsync([], browser.Certificates, "ams", "sjc", "sin");
        var (account, token) = await lab.Customers.NewTenantAsync("Browser");
        using var client = lab.Customers.As(token);
        var zone = await PropagationLab.ZoneAsync(client, account);
        await lab.WaitUntilConvergedAsync();

        // Two plaintext connections per DC, each answered (Caddy's redirect) while the zone is open.
        foreach (var edge in lab.Edges.Values)
        {
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(SocketError.Success, await edge.TcpExchangeAsync(zone.V4, 80));
            }
        }

        await WaitForAsync(async () => (await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports")))
            .GetProperty("plaintext_connections_24h").GetInt64() == 6, "the six connections to be counted");

        await using var context = await browser.NewContextAsync(new() { BaseURL = lab.Api.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("dashboard/sign-in");
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Zones" }).WaitForAsync();
        await page.GotoAsync($"dashboard/zones/{zone.Id}");
        Assert.Equal("6", await page.Locator("#plaintext-24h").InnerTextAsync());
        // The traffic chart's text: two attempts per DC, none blocked yet.
        Assert.Equal(("6", "0"), await TrafficTotalsAsync(page));
        foreach (var dc in lab.Edges.Keys)
        {
            Assert.Equal(("2", "0"), await TrafficRowAsync(page, dc));
        }

        await page.GetByRole(AriaRole.Switch).ClickAsync();
        Assert.Contains("6 plaintext HTTP connection attempts in the last 24 hours would be refused", await page.Locator("#preview").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("off", await page.Locator("#setting-value").InnerTextAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm: turn on" }).ClickAsync();

        // The page after the confirm (the preview page showed the zone's earlier rollout, 3/3 applied too).
        await Assertions.Expect(page.Locator("#setting-value")).ToHaveTextAsync("on");
        await Assertions.Expect(page.Locator("#rollout-summary")).ToContainTextAsync("3/3 applied", new() { Timeout = 30_000 });
        await BrowserFixture.SaveScreenshotAsync(page);

        foreach (var (dc, edge) in lab.Edges)
        {
            Assert.True(await edge.TcpExchangeAsync(zone.V4, 80) == SocketError.ConnectionRefused, $"{dc}: port 80 still answers");
            Assert.True(await edge.TcpExchangeAsync(zone.V4, 443) == SocketError.Success, $"{dc}: port 443 no longer answers");
        }

        // The refused SYN in each DC is counted as attempted and as blocked once the agents report it.
        await WaitForAsync(async () =>
        {
            var totals = (await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/analytics/plaintext_http"))).GetProperty("totals");
            return totals.GetProperty("attempted").GetInt64() == 9 && totals.GetProperty("blocked").GetInt64() == 3;
        }, "the three refused connections to be counted as attempted and blocked");
        foreach (var (range, key) in new[] { ("Last 24 hours", "24h"), ("Last 7 days", "7d"), ("Last 30 days", "30d") })
        {
            await page.GetByRole(AriaRole.Navigation, new() { Name = "Traffic range" }).GetByRole(AriaRole.Link, new() { Name = range }).ClickAsync();
            await Assertions.Expect(page.Locator("#traffic-table caption")).ToContainTextAsync(range.ToLowerInvariant());
            // The page before the first click showed 24 h with the older counts: the checks retry
            // until the page the click loads is in place.
            await Assertions.Expect(page.Locator("#traffic-attempted-total")).ToHaveTextAsync("9");
            await Assertions.Expect(page.Locator("#traffic-blocked-total")).ToHaveTextAsync("3");
            Assert.EndsWith($"range={key}", page.Url, StringComparison.Ordinal);
            Assert.Equal(("9", "3"), await TrafficTotalsAsync(page));
            foreach (var dc in lab.Edges.Keys)
            {
                Assert.Equal(("3", "1"), await TrafficRowAsync(page, dc));
            }
        }

        Assert.Equal(2, await page.Locator("#traffic-title ~ figure svg").CountAsync());
        await BrowserFixture.SaveScreenshotAsync(page, testName: "TrafficChart");
    }

    /// <summary>The chart table's totals row: attempted, blocked.</summary>
    private static async Task<(string, string)> TrafficTotalsAsync(IPage page) =>
        ((await page.Locator("#traffic-attempted-total").InnerTextAsync()).Trim(), (await page.Locator("#traffic-blocked-total").InnerTextAsync()).Trim());

    /// <summary>The chart table's row of one DC: attempted, blocked.</summary>
    private static async Task<(string, string)> TrafficRowAsync(IPage page, string dc) =>
        ((await page.Locator($"#traffic-table tr[data-dc={dc}] .cp-attempted").InnerTextAsync()).Trim(),
         (await page.Locator($"#traffic-table tr[data-dc={dc}] .cp-blocked").InnerTextAsync()).Trim());

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited 30 s for {what}");
            }

            await Task.Delay(250);
        }
    }
}
