using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Testing;

/// <summary>
/// Hosts the real API on real Kestrel (HTTPS, a free loopback port) against the test
/// Postgres and RabbitMQ. Settings go in as configuration, the way scripts/up passes them.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    private readonly TestCertificates certificates;
    private readonly Dictionary<string, string?> settings;

    public ApiFactory(TestCertificates certificates, string postgres, string rabbitMq, IDictionary<string, string?>? extra = null)
    {
        this.certificates = certificates;
        OperatorToken = "cpop_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        ScrapeToken = "cpmx_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        settings = new Dictionary<string, string?>
        {
            ["Https:Address"] = "127.0.0.1",
            ["Https:Port"] = "0",
            ["Https:CertificatePath"] = certificates.CertificatePath,
            ["Https:KeyPath"] = certificates.KeyPath,
            ["ConnectionStrings:ControlPlane"] = postgres,
            ["ConnectionStrings:RabbitMq"] = rabbitMq,
            ["Operator:TokenSha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(OperatorToken))),
            ["Metrics:ScrapeTokenSha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ScrapeToken))),
            ["Metrics:FleetRefreshInterval"] = "00:00:01",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        UseKestrel();
    }

    public string OperatorToken { get; }

    /// <summary>The scrape-only credential of <c>/metrics</c>.</summary>
    public string ScrapeToken { get; }

    /// <summary>Every address the server listens on, as Kestrel reports them.</summary>
    public IReadOnlyList<Uri> ListenAddresses =>
        Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();

    public Uri BaseAddress => ListenAddresses.Single(a => a.Scheme == "https");

    /// <summary>Every line the API logged, at every level.</summary>
    public LogCapture Logs { get; } = new();

    /// <summary>A handler that trusts only the test CA, for clients that need their own settings (cookies, redirects).</summary>
    public SocketsHttpHandler CreateTrustingHandler() => certificates.CreateTrustingHandler();

    /// <summary>A client that speaks HTTPS to the server and trusts only the test CA.</summary>
    public HttpClient CreateHttpsClient() => new(certificates.CreateTrustingHandler()) { BaseAddress = BaseAddress };

    /// <summary>An HTTPS client that presents the scrape credential, as Prometheus does.</summary>
    public HttpClient CreateScrapeClient()
    {
        var client = CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ScrapeToken);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
    }
}
