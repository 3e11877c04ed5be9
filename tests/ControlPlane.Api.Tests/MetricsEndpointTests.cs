using System.Net;
using System.Net.Http.Headers;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary><c>GET /metrics</c>: the scrape credential and nothing else reads it, over HTTPS, answering in the envelope's codes.</summary>
[Collection("api")]
public sealed class MetricsEndpointTests(ApiFixture api)
{
    [Fact]
    public async Task NoCredential_Is400With9106()
    {
        using var client = api.Factory.CreateHttpsClient();

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/metrics"), HttpStatusCode.BadRequest, ErrorCodes.MissingCredentials);
    }

    [Theory]
    [InlineData("cpmx_wrong")]
    [InlineData("operator")]
    public async Task WrongCredential_Is401With1000_TheOperatorTokenIncluded(string which)
    {
        using var client = api.Factory.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", which == "operator" ? api.Factory.OperatorToken : which);

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/metrics"), HttpStatusCode.Unauthorized, ErrorCodes.InvalidApiToken);
    }

    [Fact]
    public async Task ScrapeCredential_CannotCallTheApi()
    {
        using var scraper = api.Factory.CreateScrapeClient();

        await EnvelopeAssertions.AssertFailureAsync(await scraper.GetAsync("/operator/v1/data_centers/status"), HttpStatusCode.Unauthorized, ErrorCodes.InvalidApiToken);
        await EnvelopeAssertions.AssertFailureAsync(await scraper.GetAsync("/client/v4/zones"), HttpStatusCode.Unauthorized, ErrorCodes.InvalidApiToken);
    }

    [Fact]
    public async Task ScrapeCredential_ReadsRequestDurationsInSeconds_AndTokenCacheLookups()
    {
        var (_, token) = await api.Api.NewTenantAsync("Metrics");
        using var customer = api.Api.As(token);
        Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/client/v4/zones")).StatusCode);
        using var scraper = api.Factory.CreateScrapeClient();

        var scrape = await PrometheusScrape.FetchAsync(scraper);

        Assert.Contains("http_server_request_duration_seconds", scrape.Families);
        // The route is the template ASP.NET Core matched ("/client/v4/zones/" as the group maps it).
        Assert.NotEmpty(scrape.Find("http_server_request_duration_seconds_count", "http_route=/client/v4/zones/", "http_response_status_code=200"));
        Assert.True(scrape.Value("controlplane_token_cache_lookups_total", "result=hit") + scrape.Value("controlplane_token_cache_lookups_total", "result=miss") >= 1);
        // Counters are listed from zero before their first event, so alerts see the first one.
        Assert.NotNull(scrape.Value("controlplane_rate_limit_rejections_total"));
    }
}
