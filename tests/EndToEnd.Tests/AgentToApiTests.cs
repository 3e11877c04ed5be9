using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Testing;

namespace EndToEnd.Tests;

/// <summary>
/// The deployables together: the real EdgeAgent process programs a namespace the test
/// created, reports over the real RabbitMQ, and the HTTPS API shows the report from Postgres.
/// </summary>
public sealed class AgentToApiTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates certificates = new();
    private TestDatabase database = null!;
    private TestVirtualHost vhost = null!;
    private ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        vhost = await TestVirtualHost.CreateAsync();
        api = new ApiFactory(certificates, database.ConnectionString, vhost.AmqpUri);
        api.StartServer();
    }

    [Fact]
    public async Task Agent_InItsOwnNamespace_ReportsReady_AndTheOperatorApiShowsIt()
    {
        using var ns = NetworkNamespace.Create();
        await RegisterAsync("e2e");
        using var agent = StartAgent("e2e", ns.Name);

        var row = await WaitForAgentAsync("e2e", agent);

        Assert.True(row.GetProperty("ready").GetBoolean(), row.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(row.GetProperty("agent_version").GetString()));
    }

    [Fact]
    public async Task Agent_WhoseNamespaceIsMissing_StaysUp_AndReportsWhyItIsNotReady()
    {
        var missing = "cpt-gone-" + Guid.NewGuid().ToString("N")[..6];
        await RegisterAsync("e2e-bad");
        using var agent = StartAgent("e2e-bad", missing);

        var row = await WaitForAgentAsync("e2e-bad", agent);

        Assert.False(row.GetProperty("ready").GetBoolean());
        Assert.Contains(missing, row.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(agent.HasExited, "an agent that cannot program its kernel must report, not crash");
    }

    /// <summary>Reports from unregistered data centers are dropped, so each test registers its DC first.</summary>
    private async Task RegisterAsync(string dataCenter)
    {
        using var client = new CustomerApiClient(api).Operator();
        await CustomerApiClient.ResultAsync(await client.PostAsJsonAsync("/operator/v1/data_centers", new { code = dataCenter, name = dataCenter }));
    }

    private AgentProcess StartAgent(string dataCenter, string networkNamespace) => AgentProcess.Start(new Dictionary<string, string>
    {
        ["Agent__DataCenter"] = dataCenter,
        ["Agent__Namespace"] = networkNamespace,
        ["Agent__HeartbeatInterval"] = "00:00:01",
        ["ConnectionStrings__RabbitMq"] = vhost.AmqpUri,
    });

    private async Task<JsonElement> WaitForAgentAsync(string dataCenter, AgentProcess agent)
    {
        using var client = api.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", api.OperatorToken);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(agent.HasExited, "the agent exited: " + agent.Output);
            var body = JsonDocument.Parse(await client.GetStringAsync("/operator/v1/agents")).RootElement;
            foreach (var row in body.GetProperty("result").EnumerateArray())
            {
                if (row.GetProperty("data_center").GetString() == dataCenter)
                {
                    return row.Clone();
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"agent {dataCenter} never showed up in /operator/v1/agents. Agent output:\n{agent.Output}");
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await vhost.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose()
    {
        api.Dispose();
        certificates.Dispose();
    }
}
