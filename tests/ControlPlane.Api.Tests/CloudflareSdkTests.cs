using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>
/// Cloudflare's official TypeScript SDK as a client of this API, with only its base URL
/// changed: tests/sdk/clients.mjs calls every Cloudflare-compatible route through the SDK
/// method users call and asserts the values it gets back (see that file for the steps).
/// </summary>
[Collection("api")]
public sealed class CloudflareSdkTests(ApiFixture fixture)
{
    [Fact]
    public async Task TheOfficialTypeScriptSdk_WorksWithOnlyItsBaseUrlChanged()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("SDK");
        var environment = new Dictionary<string, string>
        {
            ["CLOUDFLARE_BASE_URL"] = new Uri(fixture.Factory.BaseAddress, "/client/v4").ToString(),
            ["CLOUDFLARE_API_TOKEN"] = token,
            ["CP_ACCOUNT_ID"] = account,
            ["CP_TAG"] = $"sdk{Guid.NewGuid():N}"[..14],
            ["NODE_EXTRA_CA_CERTS"] = fixture.Certificates.AuthorityPath,
        };

        var run = await RepositoryScript.RunProgramAsync("node", environment, TimeSpan.FromMinutes(2), "tests/sdk/clients.mjs");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("all SDK steps passed", run.StandardOutput.TrimEnd());
        Assert.DoesNotContain("FAILED", run.StandardOutput);
    }
}
