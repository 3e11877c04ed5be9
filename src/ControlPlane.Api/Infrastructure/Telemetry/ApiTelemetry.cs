using System.Security.Claims;
using System.Text.Encodings.Web;
using ControlPlane.Telemetry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ControlPlane.Api.Infrastructure.Telemetry;

/// <summary>Settings of the API's metrics (section <c>Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>False turns off every meter and the <c>/metrics</c> route (for a side-by-side benchmark).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Lowercase hex SHA-256 of the scrape credential, the only bearer token <c>/metrics</c> accepts.
    /// Empty: every credential is refused. The token itself is never configured.
    /// </summary>
    public string ScrapeTokenSha256 { get; set; } = "";

    /// <summary>How often the dispatcher replica re-reads the fleet for its gauges.</summary>
    public TimeSpan FleetRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// OpenTelemetry metrics of the API, exported for Prometheus at <c>GET /metrics</c> on the HTTPS
/// listener, to the scrape credential only. The exporter is OpenTelemetry's own
/// (<c>OpenTelemetry.Exporter.Prometheus.AspNetCore</c>, pinned at 1.20.1-beta.1, the only version
/// served): it keeps the semantic conventions' names and units (seconds) that ASP.NET Core, the
/// runtime, Npgsql and MassTransit already emit, where prometheus-net would need a bridge.
/// </summary>
public static class ApiTelemetry
{
    public const string ScrapeRoute = "/metrics";

    public static WebApplicationBuilder AddApiTelemetry(this WebApplicationBuilder builder)
    {
        // The SDK's provider is built first (when there is one), so that it listens before the
        // instruments exist and sees the counters' starting zeros.
        builder.Services.AddSingleton(services =>
        {
            services.GetService<MeterProvider>();
            return ActivatorUtilities.CreateInstance<ApiMetrics>(services);
        });
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section)
            .Validate(o => o.ScrapeTokenSha256.Length == 0 || (o.ScrapeTokenSha256.Length == 64 && o.ScrapeTokenSha256.All(char.IsAsciiHexDigit)),
                "Metrics:ScrapeTokenSha256 must be the 64 hex digits of the scrape token's SHA-256 (or empty: no scrape access).")
            .Validate(o => o.FleetRefreshInterval > TimeSpan.Zero, "Metrics:FleetRefreshInterval must be positive.")
            .ValidateOnStart();
        if (!builder.Configuration.GetValue(MetricsOptions.Section + ":" + nameof(MetricsOptions.Enabled), true))
        {
            return builder;
        }

        builder.Services.AddHostedService<FleetMetrics>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("controlplane-api"))
            .WithMetrics(metrics => metrics
                .AddMeter(ApiMetrics.MeterName, "MassTransit")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .OnlyThisHostsMeters()
                .AddPrometheusExporter());
        return builder;
    }

    /// <summary>Maps <c>GET /metrics</c> behind the scrape credential (no credential 400/9106, a wrong one 401/1000).</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled)
        {
            app.MapPrometheusScrapingEndpoint(ScrapeRoute).RequireAuthorization(ScrapeAuthenticationHandler.SchemeName);
        }

        return app;
    }
}

/// <summary>Bearer authentication of the scrape credential, against the configured hash; its only role is <c>scraper</c>.</summary>
public sealed class ScrapeAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<MetricsOptions> metricsOptions)
    : EnvelopeAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "Scrape";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadBearer(out var token) is { } early)
        {
            return Task.FromResult(early);
        }

        if (!Bearer.MatchesSha256(token, metricsOptions.Value.ScrapeTokenSha256))
        {
            return Task.FromResult(Fail(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidApiToken, "Invalid API Token"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "scraper"), new Claim(ClaimTypes.Role, "scraper")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
