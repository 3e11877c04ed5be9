using System.Text.Json;
using ControlPlane.Testing;

namespace EdgeAgent.Tests;

/// <summary>
/// The real agent process, configured for JSON console logs (<c>Logging:Console:FormatterName=json</c>),
/// logs a caught fault as one JSON object per line with the exception and its stack in their own
/// field, so a log shipper can parse them. Nothing listens on the loopback ports it is given.
/// </summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task WithTheJsonFormatter_ACaughtFault_IsLoggedWithItsExceptionAndStackInTheirOwnField()
    {
        var recordings = Directory.CreateTempSubdirectory("cp-json-log-");
        try
        {
            using var agent = AgentProcess.Start(new Dictionary<string, string>
            {
                ["Agent__DataCenter"] = "tst",
                ["Agent__Backend"] = "recording",
                ["Agent__RecordingDirectory"] = recordings.FullName,
                // The discard port on loopback: the snapshot fetch fails, and the sync loop catches it.
                ["Agent__ControlPlaneUrl"] = "https://127.0.0.1:9/",
                ["ConnectionStrings__RabbitMq"] = "amqp://guest:guest@127.0.0.1:9/",
                ["Logging__Console__FormatterName"] = "json",
            });

            JsonElement? fault = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (fault is null && DateTime.UtcNow < deadline && !agent.HasExited)
            {
                fault = agent.Output.Split('\n').Select(Parse).FirstOrDefault(e =>
                    e is { } line && line.TryGetProperty("Category", out var category) && category.GetString() == "EdgeAgent.Sync.EdgeSync"
                    && line.TryGetProperty("Exception", out _));
                if (fault is null)
                {
                    await Task.Delay(200);
                }
            }

            Assert.True(fault is not null, $"no JSON log line with an exception from the sync loop:\n{agent.Output}");
            var logged = fault.Value;
            Assert.Equal("Warning", logged.GetProperty("LogLevel").GetString());
            Assert.StartsWith("Snapshot sync failed", logged.GetProperty("Message").GetString(), StringComparison.Ordinal);
            var exception = logged.GetProperty("Exception").GetString()!;
            Assert.Contains("HttpRequestException", exception, StringComparison.Ordinal);
            Assert.Contains("   at ", exception, StringComparison.Ordinal);
        }
        finally
        {
            recordings.Delete(recursive: true);
        }
    }

    private static JsonElement? Parse(string line)
    {
        if (!line.TrimStart().StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
