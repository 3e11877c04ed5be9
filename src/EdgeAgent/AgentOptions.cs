namespace EdgeAgent;

/// <summary>Settings of one agent (section <c>Agent</c>).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The data-center code this agent serves, such as <c>ams</c>.</summary>
    public string DataCenter { get; set; } = "";

    /// <summary>
    /// The network namespace whose kernel the agent programs (a name under
    /// /run/netns). Empty means the namespace the agent runs in.
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// How the kernel is programmed: <c>libnftables</c> (the default) applies batches through
    /// nftables' library in-process, on one thread inside the namespace (package libnftables1;
    /// about 1 ms per change at 100k zones against 40 ms for a process per call, see
    /// docs/benchmarks-backends.md); <c>nft</c> runs the nft binary per call (through
    /// <c>ip netns exec</c> when <see cref="Namespace"/> is set); <c>recording</c> only writes what
    /// it would apply. Both kernel backends read set elements over netlink.
    /// </summary>
    public string Backend { get; set; } = "libnftables";

    /// <summary>Where the recording backend writes its rulesets.</summary>
    public string RecordingDirectory { get; set; } = "recorded-rulesets";

    /// <summary>How often the agent reads its SYN counters and reports plaintext traffic; also how long a report may wait for the broker's confirm before it is sent again.</summary>
    public TimeSpan AnalyticsInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the agent reports in even when nothing changed.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The control plane's HTTPS base address, for the snapshot. Empty: the agent only reports (no sync).</summary>
    public string ControlPlaneUrl { get; set; } = "";

    /// <summary>PEM of the CA that signed the control plane's certificate; empty trusts the system store.</summary>
    public string CaCertificatePath { get; set; } = "";

    /// <summary>The agent credential returned when the DC was registered.</summary>
    public string Credential { get; set; } = "";

    /// <summary>How long a missing revision may stay missing before the agent resyncs from a snapshot.</summary>
    public TimeSpan GapTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>How the agent's nftables table looks (section <c>Agent:Nftables</c>).</summary>
public sealed class NftablesOptions
{
    public const string Section = "Agent:Nftables";

    /// <summary>The agent's own table in family <c>inet</c>; it never touches any other.</summary>
    public string Table { get; set; } = "edge_http_guard";

    /// <summary>
    /// Plaintext HTTP ports refused for closed zones, comma-separated (Cloudflare's proxied
    /// HTTP ports by default). A string, because the configuration binder appends to a
    /// default list instead of replacing it.
    /// </summary>
    public string PlaintextPorts { get; set; } = "80,8080,8880,2052,2082,2086,2095";

    public IReadOnlyList<int> ParsePorts() =>
        PlaintextPorts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, out var port) && port is > 0 and < 65536
                ? port
                : throw new FormatException($"Agent:Nftables:PlaintextPorts has an invalid port '{p}'."))
            .Distinct()
            .Order()
            .ToList();

    /// <summary><c>input</c> when the edge terminates connections itself, <c>forward</c> when it routes them to origin hosts.</summary>
    public string Hook { get; set; } = "input";

    /// <summary>
    /// How often the agent re-reads its whole table and repairs drift even without a signal. Drift is
    /// event-driven (a ruleset generation the kernel announces as written by another process starts a check), so
    /// this is only the fallback for a missed event.
    /// </summary>
    public TimeSpan DriftCheckInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Where the agent serves its Prometheus metrics (section <c>Agent:Metrics</c>): plain HTTP on a
/// loopback address only, so nothing off the host can reach it (docs/operations.md says why).
/// </summary>
public sealed class AgentMetricsOptions
{
    public const string Section = "Agent:Metrics";

    /// <summary>The TCP port of <c>http://{Address}:{Port}/metrics</c>; 0 (the default) serves no metrics.</summary>
    public int Port { get; set; }

    /// <summary>The listener's address; must be a loopback address (127.0.0.0/8 or ::1).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>True when <see cref="Address"/> is a loopback IP address.</summary>
    public bool IsLoopback => System.Net.IPAddress.TryParse(Address, out var ip) && System.Net.IPAddress.IsLoopback(ip);

    /// <summary>The address as the host of a URI: <c>127.0.0.1</c>, or <c>[::1]</c> for IPv6.</summary>
    public string UriHost => System.Net.IPAddress.Parse(Address) is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6
        ? $"[{v6}]"
        : Address;
}
