using System.Net;
using System.Text.RegularExpressions;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>
/// The API tokens pages over plain HTTPS, as a browser without scripts posts their forms: a
/// denied write is audited like the API's, the secret is in the create response only, and a
/// session that revokes its own token ends without an error.
/// </summary>
[Collection("api")]
public sealed partial class TokensPageFormTests(ApiFixture api)
{
    [Fact]
    public async Task CreateByATokenWithoutTokensWrite_IsRefused_AndAuditedAsAFailedTokenCreate()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard tokens");
        using var admin = api.Api.As(token);
        var reader = await CustomerApiClient.IssueTokenAsync(admin, $"/client/v4/accounts/{account}/tokens", account, [CustomerApiClient.ZoneRead]);
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(reader);

        var page = await browser.GetAsync("/dashboard/tokens");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("role=\"alert\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var refused = await browser.SubmitAsync(page, "create-token",
            new() { ["Create.Name"] = "escalation", ["Create.Groups"] = CustomerApiClient.TokensWrite, ["Create.Scope"] = "all" }, "/dashboard/tokens");

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(Secret(), html);
        var entries = await CustomerApiClient.ResultAsync(await admin.GetAsync($"/client/v4/accounts/{account}/audit_logs?action.type=token.create"));
        var failed = Assert.Single(entries.EnumerateArray(), e => !e.GetProperty("action").GetProperty("result").GetBoolean());
        Assert.Equal(403, failed.GetProperty("metadata").GetProperty("status").GetInt32());
        Assert.Equal("/dashboard/tokens", failed.GetProperty("metadata").GetProperty("route").GetString());
    }

    [Fact]
    public async Task Secret_IsInTheCreateResponseOnly_NotStored_AndRevokingTheSessionsOwnTokenEndsIt_Without5xx()
    {
        var (account, token) = await api.Api.NewTenantAsync("Dashboard tokens");
        using var browser = new DashboardBrowser(api.Factory);
        await browser.SignInAsync(token);

        var created = await browser.SubmitAsync(await browser.GetAsync("/dashboard/tokens"), "create-token",
            new() { ["Create.Name"] = "no-script", ["Create.Groups"] = CustomerApiClient.ZoneRead, ["Create.Scope"] = "all" }, "/dashboard/tokens");

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains("no-store", created.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var secret = Secret().Match(await created.Content.ReadAsStringAsync()).Value;
        Assert.NotEmpty(secret);
        using (var client = api.Api.As(secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/client/v4/user/tokens/verify")).StatusCode);
        }

        Assert.DoesNotContain(secret, await (await browser.GetAsync("/dashboard/tokens")).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The session's own token, revoked on its own page: the answer is a page, the next request is the sign-in.
        using var self = api.Api.As(token);
        var ownId = (await CustomerApiClient.ResultAsync(await self.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString();
        var path = $"/dashboard/tokens/{ownId}";
        var preview = await browser.SubmitAsync(await browser.GetAsync(path), "revoke", new() { ["Revoke"] = "revoke" }, path);
        Assert.Contains("Confirm: revoke token", await preview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var revoked = await browser.SubmitAsync(preview, "revoke-confirm", new() { ["Confirm"] = "revoke" }, path);

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Contains("the next page asks you to sign in again", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var next = await browser.GetAsync("/dashboard/tokens");
        Assert.Equal(HttpStatusCode.Redirect, next.StatusCode);
        Assert.Contains("/dashboard/sign-in", next.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await self.GetAsync($"/client/v4/accounts/{account}/tokens")).StatusCode);
    }

    [GeneratedRegex("cpat_[A-Za-z0-9_-]{43}")]
    private static partial Regex Secret();
}
