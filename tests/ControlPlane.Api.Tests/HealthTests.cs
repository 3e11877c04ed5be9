using System.Net;
using System.Text.Json;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class HealthTests(ApiFixture api)
{
    [Fact]
    public async Task Readiness_WithPostgresAndRabbitMqUp_IsHealthyAndNamesBothChecks()
    {
        using var client = api.Factory.CreateHttpsClient();

        var body = await Eventually.SucceedsAsync(async () =>
            await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/health/ready")));

        var checks = body.GetProperty("result").GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Healthy", checks["postgres"]);
        Assert.Equal("Healthy", checks["rabbitmq"]);
    }

    [Fact]
    public async Task Liveness_AnswersWithoutCheckingDependencies()
    {
        using var client = api.Factory.CreateHttpsClient();

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/health/live"));

        Assert.Equal("Healthy", body.GetProperty("result").GetProperty("status").GetString());
    }
}

/// <summary>An API whose broker address leads nowhere: readiness must say so, and say why.</summary>
public sealed class ReadinessWithoutBrokerTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates certificates = new();
    private TestDatabase database = null!;
    private ApiFactory factory = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        // Port 9 (discard) on loopback: nothing listens there, so every connect is refused.
        factory = new ApiFactory(certificates, database.ConnectionString, "amqp://guest:guest@127.0.0.1:9/");
        factory.StartServer();
    }

    [Fact]
    public async Task Readiness_WithRabbitMqUnreachable_Is503AndNamesRabbitMq()
    {
        using var client = factory.CreateHttpsClient();

        var response = await client.GetAsync("/health/ready");
        var body = await EnvelopeAssertions.AssertFailureAsync(response, HttpStatusCode.ServiceUnavailable, 1200);

        var messages = body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        var rabbit = Assert.Single(messages);
        Assert.StartsWith("rabbitmq: Unhealthy", rabbit, StringComparison.Ordinal);
        Assert.DoesNotContain(messages, m => m.StartsWith("postgres", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose()
    {
        factory.Dispose();
        certificates.Dispose();
    }
}

internal static class Eventually
{
    /// <summary>Retries an assertion until it passes or the time is up, then rethrows its last failure.</summary>
    public static async Task<JsonElement> SucceedsAsync(Func<Task<JsonElement>> attempt, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
