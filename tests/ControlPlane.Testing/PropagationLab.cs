using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Testing;

/// <summary>
/// The whole system on one machine: the HTTPS API (with its dispatcher) on its own
/// database and vhost, reached through TCP proxies so tests can take Postgres or
/// RabbitMQ away; and per data center an edge namespace with listeners, a client
/// namespace, and the real agent process programming the edge, reaching RabbitMQ through
/// a proxy of its own chained in front of the shared one.
/// </summary>
public sealed class PropagationLab : IAsyncDisposable
{
    private TestCertificates certificates = new();
    private bool ownsCertificates = true;
    private readonly Dictionary<string, string> credentials = [];
    private Dictionary<string, string?> apiSettings = [];

    private PropagationLab(TestDatabase database, TestVirtualHost vhost, TcpProxy postgres, TcpProxy rabbit)
    {
        Database = database;
        VirtualHost = vhost;
        Postgres = postgres;
        Rabbit = rabbit;
    }

    public TestDatabase Database { get; }

    public TestVirtualHost VirtualHost { get; }

    public TcpProxy Postgres { get; }

    /// <summary>RabbitMQ for the API and, through <see cref="AgentRabbits"/>, for every agent: cutting it takes the broker from all.</summary>
    public TcpProxy Rabbit { get; }

    /// <summary>Each agent's own way to <see cref="Rabbit"/>: cutting or holding one touches that DC's agent alone.</summary>
    public Dictionary<string, TcpProxy> AgentRabbits { get; } = [];

    public ApiFactory Api { get; private set; } = null!;

    public CustomerApiClient Customers { get; private set; } = null!;

    public Dictionary<string, EdgeLab> Edges { get; } = [];

    public Dictionary<string, AgentProcess> Agents { get; } = [];

    /// <summary>The CA the API's and the edges' certificates chain to.</summary>
    public TestCertificates Certificates => certificates;

    /// <summary>The <c>CP_EDGES</c> value of <c>scripts/try</c> and <c>scripts/traffic</c>: "dc=client-namespace" pairs.</summary>
    public string ClientNamespaces => string.Join(' ', Edges.Select(e => $"{e.Key}={e.Value.Client.Name}"));

    public string ProxiedPostgres => new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Port = Postgres.Port, Timeout = 3, CommandTimeout = 5 }.ConnectionString;

    public string ProxiedRabbit => new UriBuilder(VirtualHost.AmqpUri) { Port = Rabbit.Port }.Uri.ToString();

    public static Task<PropagationLab> StartAsync(params string[] dataCenters) => StartAsync(new Dictionary<string, string?>(), dataCenters);

    /// <summary>Starts the lab; <paramref name="apiSettings"/> go to the API (a higher rate limit for a benchmark, say).</summary>
    public static Task<PropagationLab> StartAsync(Dictionary<string, string?> apiSettings, params string[] dataCenters) =>
        StartAsync(apiSettings, null, dataCenters);

    /// <summary>
    /// Starts the lab with the given CA and server certificate (a browser that pins the test
    /// certificate needs the lab to use it); the caller keeps owning <paramref name="certificates"/>.
    /// </summary>
    public static async Task<PropagationLab> StartAsync(Dictionary<string, string?> apiSettings, TestCertificates? certificates, params string[] dataCenters)
    {
        var database = await TestDatabase.CreateMigratedAsync();
        var vhost = await TestVirtualHost.CreateAsync();
        var pg = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin);
        var amqp = TestEnvironment.RabbitMqAmqp;
        var lab = new PropagationLab(database, vhost, new TcpProxy(pg.Host!, pg.Port), new TcpProxy(amqp.Host, amqp.Port)) { apiSettings = apiSettings };
        if (certificates is not null)
        {
            lab.certificates.Dispose();
            lab.certificates = certificates;
            lab.ownsCertificates = false;
        }

        lab.Api = lab.NewApi();
        lab.Customers = new CustomerApiClient(lab.Api);
        // Zone addresses land in the ranges the lab routes to the edge namespaces.
        await lab.Customers.EnsurePoolsAsync(EdgeLab.DefaultPools);
        using var op = lab.Customers.Operator();
        foreach (var dc in dataCenters)
        {
            var registered = await ResultAsync(await op.PostAsJsonAsync("/operator/v1/data_centers", new { code = dc, name = dc }));
            lab.credentials[dc] = registered.GetProperty("agent_credential").GetString()!;
            lab.Edges[dc] = EdgeLab.Create(dc, lab.certificates);
            lab.AgentRabbits[dc] = new TcpProxy("127.0.0.1", lab.Rabbit.Port);
            lab.StartAgent(dc);
        }

        await lab.WaitUntilConvergedAsync();
        return lab;
    }

    /// <summary>Another API replica on the same database and broker; <paramref name="extra"/> settings go to it alone.</summary>
    public ApiFactory NewApi(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(apiSettings) { ["Status:StaleAfter"] = "00:00:10" };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var api = new ApiFactory(certificates, ProxiedPostgres, ProxiedRabbit, settings);
        api.StartServer();
        return api;
    }

    /// <summary>Each agent's metrics port on 127.0.0.1 (<c>Agent:Metrics:Port</c>), kept across restarts.</summary>
    public Dictionary<string, int> AgentMetricsPorts { get; } = [];

    public void StartAgent(string dc) => Agents[dc] = AgentProcess.Start(new Dictionary<string, string>
    {
        ["Agent__Metrics__Port"] = (AgentMetricsPorts.TryGetValue(dc, out var port) ? port : AgentMetricsPorts[dc] = FreeLoopbackPort()).ToString(CultureInfo.InvariantCulture),
        ["Agent__DataCenter"] = dc,
        ["Agent__Namespace"] = Edges[dc].Edge.Name,
        ["Agent__HeartbeatInterval"] = "00:00:01",
        ["Agent__GapTimeout"] = "00:00:02",
        ["Agent__AnalyticsInterval"] = "00:00:01",
        ["Agent__ControlPlaneUrl"] = Api.BaseAddress.ToString(),
        ["Agent__CaCertificatePath"] = certificates.AuthorityPath,
        ["Agent__Credential"] = credentials[dc],
        ["ConnectionStrings__RabbitMq"] = new UriBuilder(VirtualHost.AmqpUri) { Port = AgentRabbits[dc].Port }.Uri.ToString(),
    });

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A tenant with a token that may do everything, and its client.</summary>
    public async Task<(string Account, HttpClient Client)> TenantAsync()
    {
        var (account, token) = await Customers.NewTenantAsync("Propagation");
        return (account, Customers.As(token));
    }

    /// <summary>Creates a zone; every edge already answers for its addresses, which come from the lab's pools.</summary>
    public static async Task<(string Id, string V4, string V6)> ZoneAsync(HttpClient client, string account)
    {
        var zone = await CreateZoneAsync(client, account, $"p{Guid.NewGuid():N}"[..12] + ".example.com");
        var v4 = zone.GetProperty("edge_addresses").GetProperty("ipv4").GetString()!;
        var v6 = zone.GetProperty("edge_addresses").GetProperty("ipv6").GetString()!;
        return (zone.GetProperty("id").GetString()!, v4, v6);
    }

    /// <summary>Waits until the log is published and every DC's watermark is the latest revision.</summary>
    public async Task WaitUntilConvergedAsync(int seconds = 60)
    {
        using var op = Customers.Operator();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var fleet = await ResultAsync(await op.GetAsync("/operator/v1/data_centers/status"));
                last = fleet.GetRawText();
                var latest = fleet.GetProperty("latest_revision").GetInt64();
                if (fleet.GetProperty("dispatch_lag").GetInt64() == 0
                    && fleet.GetProperty("data_centers").EnumerateArray().All(d => d.GetProperty("watermark").GetInt64() == latest && d.GetProperty("ready").GetBoolean()))
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the fleet did not converge: {last}\n{string.Join("\n", Agents.Select(a => $"--- {a.Key}:\n{a.Value.Output}"))}");
    }

    /// <summary>
    /// Asserts that every edge's closed sets hold exactly what Postgres says, and its counting sets
    /// (attempted, blocked) every live zone's address. A deleted zone's counting elements stay until
    /// the agent's next counter read (docs/dataplane.md), so those sets may hold more for a moment.
    /// </summary>
    public async Task AssertKernelsMatchDatabaseAsync()
    {
        await using var db = Database.CreateContext();
        var zones = await db.Zones.IgnoreQueryFilters().Where(z => z.DeletedOn == null).Include(z => z.Addresses).ToListAsync();
        var closed = zones.Where(z => z.HttpPortsClosed).SelectMany(z => z.Addresses.Select(a => a.Address)).Order().ToList();
        var watched = zones.SelectMany(z => z.Addresses.Select(a => a.Address)).Order().ToList();
        foreach (var (dc, edge) in Edges)
        {
            var kernelClosed = SetElements(edge, "closed_v4").Concat(SetElements(edge, "closed_v6")).Order().ToList();
            Check(closed.SequenceEqual(kernelClosed), $"{dc}: closed sets differ from the database: [{string.Join(", ", kernelClosed)}] vs [{string.Join(", ", closed)}]");
            foreach (var role in new[] { "attempted", "blocked" })
            {
                var kernelWatched = SetElements(edge, $"{role}_v4").Concat(SetElements(edge, $"{role}_v6")).Order().ToList();
                Check(!watched.Except(kernelWatched).Any(), $"{dc}: {role} sets differ from the database: [{string.Join(", ", kernelWatched)}] vs [{string.Join(", ", watched)}]\n{string.Join("\n", Agents[dc].Output.Split('\n').Where(l => l.Contains("Zone", StringComparison.Ordinal) || l.Contains("esync", StringComparison.Ordinal) || l.Contains("onverg", StringComparison.Ordinal) || l.Contains("pply", StringComparison.Ordinal)))}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents.Values)
        {
            agent.Dispose();
        }

        foreach (var edge in Edges.Values)
        {
            edge.Dispose();
        }

        await Api.DisposeAsync();
        Postgres.Dispose();
        foreach (var proxy in AgentRabbits.Values)
        {
            proxy.Dispose();
        }

        Rabbit.Dispose();
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
        if (ownsCertificates)
        {
            certificates.Dispose();
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private static IEnumerable<string> SetElements(EdgeLab edge, string set)
    {
        var json = JsonDocument.Parse(edge.EdgeNft("-j", "list", "set", "inet", "edge_http_guard", set)).RootElement;
        foreach (var item in json.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("set", out var s) && s.TryGetProperty("elem", out var elements))
            {
                foreach (var element in elements.EnumerateArray())
                {
                    var value = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out var e) ? e.GetProperty("val") : element;
                    yield return value.GetString()!;
                }
            }
        }
    }
}
