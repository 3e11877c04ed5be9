using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Testing;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>One three-DC lab shared by the metrics tests; each test leaves every agent running and converged.</summary>
public sealed class MetricsLab : IAsyncLifetime
{
    public PropagationLab Lab { get; private set; } = null!;

    public async Task InitializeAsync() => Lab = await PropagationLab.StartAsync("ams", "sjc", "sin");

    public async Task DisposeAsync() => await Lab.DisposeAsync();
}

/// <summary>
/// The metrics an operator's Prometheus scrapes, read from the real API (over HTTPS, with the scrape
/// credential) and the real agents (on loopback), while changes really propagate.
/// </summary>
[Collection("propagation")]
public sealed partial class MetricsTests(MetricsLab fixture) : IClassFixture<MetricsLab>
{
    private PropagationLab Lab => fixture.Lab;

    [Fact]
    public async Task Patch_EveryDcApplies_ScrapeShowsTheRevisionAdvanced_AndAPropagationObservationPerDc()
    {
        var (account, client) = await Lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await Lab.WaitUntilConvergedAsync();
        var before = await ScrapeApiUntilAsync(s => s.Value("controlplane_change_log_revision", "state=latest") is not null, "the fleet gauges");
        var revisionBefore = before.Value("controlplane_change_log_revision", "state=latest")!.Value;
        var observationsBefore = Lab.Edges.Keys.ToDictionary(dc => dc, dc => PropagationCount(before, dc));

        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" }));
        var rollout = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports/rollout?wait=30"));
        Assert.Equal(3, rollout.GetProperty("summary").GetProperty("applied").GetInt32());

        var after = await ScrapeApiUntilAsync(
            s => s.Value("controlplane_change_log_revision", "state=latest") > revisionBefore
                 && Lab.Edges.Keys.All(dc => PropagationCount(s, dc) > observationsBefore[dc] && s.Value("controlplane_data_center_lag", $"data_center={dc}") == 0),
            "the revision advanced, and a propagation observation and lag 0 for every DC");
        Assert.Equal(after.Value("controlplane_change_log_revision", "state=latest"), after.Value("controlplane_change_log_revision", "state=published"));
        Assert.Equal(0, after.Value("controlplane_dispatch_lag"));
        foreach (var dc in Lab.Edges.Keys)
        {
            Assert.Equal(1, after.Value("controlplane_data_center_state", $"data_center={dc}", "state=fresh"));
            // The histogram is in seconds: a change that took more than a minute in this lab would be a unit bug.
            Assert.True(after.Value("controlplane_propagation_duration_seconds_bucket", $"data_center={dc}", "le=60") >= 1);
        }

        foreach (var (dc, port) in Lab.AgentMetricsPorts)
        {
            using var agent = AgentScrapeClient(port);
            var scrape = await PrometheusScrape.FetchAsync(agent);
            Assert.True(scrape.Value("edge_agent_changes_applied_total") >= 1, $"{dc} counted no applied revision");
            Assert.True(scrape.Value("edge_agent_nftables_set_elements", "nftables_set=closed_v4") >= 1, $"{dc} reports no closed IPv4 element");
            Assert.Equal(1, scrape.Value("edge_agent_resyncs_total", "reason=start_up"));
        }
    }

    [Fact]
    public async Task AgentStopped_ItsLagRisesAndStalenessGrows_AndAfterTheRestartTheLagReturnsToZero()
    {
        var (account, client) = await Lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await Lab.WaitUntilConvergedAsync();

        Lab.Agents["sin"].KillHard();
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" }));
        // The fleet gauges are a reading refreshed every second: wait for one taken after the running DCs applied.
        var lagging = await ScrapeApiUntilAsync(
            s => s.Value("controlplane_data_center_lag", "data_center=sin") > 0
                 && s.Value("controlplane_data_center_lag", "data_center=ams") == 0
                 && s.Value("controlplane_data_center_lag", "data_center=sjc") == 0,
            "sin's lag above 0 while ams and sjc are at 0");
        var age = lagging.Value("controlplane_data_center_last_seen_age_seconds", "data_center=sin")!.Value;
        await ScrapeApiUntilAsync(s => s.Value("controlplane_data_center_last_seen_age_seconds", "data_center=sin") > age + 1, "sin's last-seen age growing");

        Lab.StartAgent("sin");
        await Lab.WaitUntilConvergedAsync();
        var recovered = await ScrapeApiUntilAsync(s => s.Value("controlplane_data_center_lag", "data_center=sin") == 0, "sin's lag back to 0");
        Assert.True(recovered.Value("controlplane_data_center_last_seen_age_seconds", "data_center=sin") < 10);
    }

    [Fact]
    public async Task AgentMetrics_AreServedOnLoopbackOnly_NotToANamespaceWithARouteToTheHost()
    {
        var (dc, port) = Lab.AgentMetricsPorts.First();
        using (var agent = AgentScrapeClient(port))
        {
            Assert.Contains("edge_agent_apply_duration_seconds", (await PrometheusScrape.FetchAsync(agent)).Families);
        }

        // A namespace joined to the host by a veth pair: the host's end has an address the namespace routes to.
        using var outside = NetworkNamespace.Create();
        var hostEnd = outside.Name + "h";
        NetworkNamespace.Run("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", outside.Name);
        try
        {
            NetworkNamespace.Run("ip", "addr", "add", "203.0.113.241/30", "dev", hostEnd);
            NetworkNamespace.Run("ip", "link", "set", hostEnd, "up");
            NetworkNamespace.Run("ip", "-n", outside.Name, "addr", "add", "203.0.113.242/30", "dev", "eth0");
            NetworkNamespace.Run("ip", "-n", outside.Name, "link", "set", "eth0", "up");

            // Control: a listener on every host address is reachable from there, so the route works.
            using var control = new TcpListener(IPAddress.Any, 0);
            control.Start();
            Assert.Equal(SocketError.Success, await ConnectFromAsync(outside, "203.0.113.241", ((IPEndPoint)control.LocalEndpoint).Port));

            Assert.Equal(SocketError.ConnectionRefused, await ConnectFromAsync(outside, "203.0.113.241", port));
        }
        finally
        {
            NetworkNamespace.Run("ip", "link", "del", hostEnd);
        }

        Assert.False(Lab.Agents[dc].HasExited);
    }

    [Fact]
    public async Task Dashboard_EveryMetricItQueries_IsInALiveScrape()
    {
        // Every histogram has observations once a change was applied and a drift was repaired.
        var (account, client) = await Lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" }));
        await Lab.WaitUntilConvergedAsync();
        Lab.Edges["ams"].EdgeNft("flush", "set", "inet", "edge_http_guard", "closed_v4");
        using var ams = AgentScrapeClient(Lab.AgentMetricsPorts["ams"]);
        await ScrapeUntilAsync(ams, s => s.Value("edge_agent_drift_repairs_total") >= 1, "ams repairing the flushed set");

        var names = (await ScrapeApiUntilAsync(s => s.Families.Contains("controlplane_propagation_duration_seconds"), "propagation observations")).Names.ToHashSet();
        foreach (var port in Lab.AgentMetricsPorts.Values)
        {
            using var agent = AgentScrapeClient(port);
            names.UnionWith((await PrometheusScrape.FetchAsync(agent)).Names);
        }

        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "deploy/grafana/control-plane.json")));
        var queried = Expressions(dashboard.RootElement).SelectMany(MetricNames).ToHashSet();
        Assert.True(queried.Count >= 10, $"the dashboard queries only {queried.Count} metrics");
        var missing = queried.Where(n => !names.Contains(n) && !SynthesisedByPrometheus(n)).Order().ToList();
        Assert.True(missing.Count == 0, $"the dashboard queries metrics no scrape has: {string.Join(", ", missing)}");
    }

    /// <summary>Prometheus adds these to every target itself; no exporter serves them.</summary>
    private static bool SynthesisedByPrometheus(string name) => name == "up" || name.StartsWith("scrape_", StringComparison.Ordinal);

    /// <summary>Every PromQL expression of the dashboard: panel targets, and the metric of each template variable's <c>label_values(metric, label)</c>.</summary>
    private static IEnumerable<string> Expressions(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                {
                    yield return property.Value.GetString()!;
                }
                else if (property.Name == "query" && property.Value.ValueKind == JsonValueKind.String
                         && LabelValues().Match(property.Value.GetString()!) is { Success: true } variable)
                {
                    yield return variable.Groups["metric"].Value;
                }

                foreach (var inner in Expressions(property.Value))
                {
                    yield return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var inner in element.EnumerateArray().SelectMany(Expressions))
            {
                yield return inner;
            }
        }
    }

    /// <summary>
    /// The metric names of one PromQL expression: identifiers left once strings, label matchers,
    /// ranges, grouping clauses and Grafana variables are removed, that are neither functions
    /// (followed by a parenthesis) nor keywords.
    /// </summary>
    private static IEnumerable<string> MetricNames(string expression)
    {
        var bare = Ranges().Replace(Matchers().Replace(Strings().Replace(expression, ""), ""), "");
        bare = Grouping().Replace(Variables().Replace(bare, ""), "");
        return Identifier().Matches(bare).Select(m => m.Value).Where(name => !Keywords.Contains(name));
    }

    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "Inf", "NaN"];

    [GeneratedRegex(@"^label_values\((?<metric>[a-zA-Z_:][\w:]*)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variables();

    [GeneratedRegex(@"(?<![\w:.])[a-zA-Z_:][\w:]*\b(?!\s*\()")]
    private static partial Regex Identifier();

    private static double PropagationCount(PrometheusScrape scrape, string dc) =>
        scrape.Value("controlplane_propagation_duration_seconds_count", $"data_center={dc}") ?? 0;

    private static HttpClient AgentScrapeClient(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    private async Task<PrometheusScrape> ScrapeApiUntilAsync(Func<PrometheusScrape, bool> condition, string what)
    {
        using var scraper = Lab.Api.CreateScrapeClient();
        return await ScrapeUntilAsync(scraper, condition, what);
    }

    /// <summary>Scrapes until <paramref name="condition"/> holds (30 s at most); fails with the last scrape's project metrics.</summary>
    private static async Task<PrometheusScrape> ScrapeUntilAsync(HttpClient client, Func<PrometheusScrape, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        PrometheusScrape? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await PrometheusScrape.FetchAsync(client);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        var shown = last?.Samples.Where(s => s.Name.StartsWith("controlplane_", StringComparison.Ordinal) || s.Name.StartsWith("edge_agent_", StringComparison.Ordinal))
            .Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}");
        throw new TimeoutException($"waited 30 s for {what}; last scrape:\n{string.Join("\n", shown ?? [])}");
    }

    private static async Task<SocketError> ConnectFromAsync(NetworkNamespace ns, string address, int port)
    {
        using var socket = EdgeLab.InNamespace(ns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(IPAddress.Parse(address), port, timeout.Token);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }
}
