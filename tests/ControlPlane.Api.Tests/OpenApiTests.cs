using System.Net;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class OpenApiTests(ApiFixture api)
{
    private static string CommittedPath => Path.Combine(TestEnvironment.RepositoryRoot, "openapi", "ControlPlane.Api.json");

    [Fact]
    public async Task SwaggerUi_Loads()
    {
        using var client = api.Factory.CreateHttpsClient();

        var response = await client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The committed document in openapi/ is the contract clients generate from; it must
    /// be exactly what the API serves. UPDATE_OPENAPI=1 scripts/test rewrites it.
    /// </summary>
    [Fact]
    public async Task ServedDocument_MatchesTheCommittedCopy()
    {
        using var client = api.Factory.CreateHttpsClient();
        var served = (await client.GetStringAsync("/openapi/v1.json")).ReplaceLineEndings("\n").TrimEnd() + "\n";

        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(CommittedPath, served);
        }

        var committed = File.Exists(CommittedPath) ? await File.ReadAllTextAsync(CommittedPath) : "";
        Assert.True(served == committed,
            $"{CommittedPath} is out of date with the API. Regenerate it with: UPDATE_OPENAPI=1 scripts/test");
    }
}
