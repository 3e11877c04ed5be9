using System.Net.Sockets;
using System.Text;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class HttpsOnlyTests(ApiFixture api)
{
    [Fact]
    public async Task PlaintextRequest_ToApiPort_GetsNoHttpResponse()
    {
        var address = api.Factory.BaseAddress;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        stream.ReadTimeout = 5000;
        var request = Encoding.ASCII.GetBytes($"GET /health/live HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {api.Factory.OperatorToken}\r\n\r\n");
        await stream.WriteAsync(request);

        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // A reset connection is as good as a closed one: nothing came back.
        }

        Assert.DoesNotContain("HTTP/", Encoding.ASCII.GetString(received.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpClient_WithHttpScheme_FailsToGetAnyResponse()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var plain = new UriBuilder(api.Factory.BaseAddress) { Scheme = "http" }.Uri;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(plain, "/health/live")));
    }

    [Fact]
    public void Server_ListensOnExactlyOneHttpsAddress()
    {
        var address = Assert.Single(api.Factory.ListenAddresses);
        Assert.Equal("https", address.Scheme);
    }

    [Fact]
    public async Task UrlsSetting_WithHttpAddress_DoesNotAddAPlaintextListener()
    {
        using var certificates = new TestCertificates();
        await using var factory = new ApiFactory(certificates, api.Database.ConnectionString, api.VirtualHost.AmqpUri,
            new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" });

        factory.StartServer();

        Assert.All(factory.ListenAddresses, a => Assert.Equal("https", a.Scheme));
    }

    [Fact]
    public async Task KestrelEndpointsSetting_IsRefusedAtStart()
    {
        using var certificates = new TestCertificates();
        await using var factory = new ApiFactory(certificates, api.Database.ConnectionString, api.VirtualHost.AmqpUri,
            new Dictionary<string, string?> { ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.1:0" });

        var error = Assert.ThrowsAny<Exception>(factory.StartServer);

        Assert.Contains("HTTPS only", error.ToString(), StringComparison.Ordinal);
    }
}
