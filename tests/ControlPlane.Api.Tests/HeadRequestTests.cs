using System.Diagnostics;
using System.Net;

namespace ControlPlane.Api.Tests;

/// <summary>HEAD gets the status and headers of the matching GET and never a body, over HTTP/1.1 and HTTP/2.</summary>
[Collection("api")]
public sealed class HeadRequestTests(ApiFixture fixture)
{
    public static TheoryData<string, string, int> Routes => new()
    {
        { "2.0", "/client/v4/zones", 200 },
        { "2.0", "/client/v4/user/tokens/verify", 200 },
        { "2.0", "/health/live", 200 },
        { "2.0", "/client/v4/no/such/route", 404 },
        { "2.0", "/openapi/v1.json", 200 },
        { "1.1", "/client/v4/zones", 200 },
        { "1.1", "/client/v4/no/such/route", 404 },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Head_OverHttpVersion_ReturnsTheGetStatus_WithAnEmptyBody(string version, string path, int status)
    {
        var (_, token) = await fixture.Api.NewTenantAsync("Head");
        using var client = fixture.Api.As(token);
        using var request = new HttpRequestMessage(HttpMethod.Head, path)
        {
            Version = Version.Parse(version),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await client.SendAsync(request);

        Assert.Equal(Version.Parse(version), response.Version);
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task CurlHead_OverHttp2_GetsAResponse_NotAProtocolError()
    {
        var (_, token) = await fixture.Api.NewTenantAsync("Head curl");
        var start = new ProcessStartInfo("curl")
        {
            ArgumentList = { "-sS", "-I", "--http2", "--cacert", fixture.Certificates.AuthorityPath, "-H", $"Authorization: Bearer {token}", "-w", "%{http_version} %{http_code}", "-o", "/dev/null", new Uri(fixture.Factory.BaseAddress, "/client/v4/zones").ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var curl = Process.Start(start)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        var error = await curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();

        Assert.True(curl.ExitCode == 0, $"curl exited {curl.ExitCode}: {error}");
        Assert.Equal("2 200", output);
    }
}
