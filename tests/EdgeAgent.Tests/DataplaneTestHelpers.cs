using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Tests;

internal static class Zones
{
    /// <summary>A zone with one IPv4 and one IPv6 address at the given host number.</summary>
    public static ZoneEdgeState Zone(int host, bool closed, long revision = 1) =>
        new(ZoneId(host), revision, [V4(host), V6(host)], closed, null);

    public static string ZoneId(int host) => host.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    public static string V4(int host) => $"198.51.100.{host}";

    public static string V6(int host) => $"2001:db8:1::{host:x}";

    /// <summary>The real dataplane on the agent's default backend, programming the given namespace.</summary>
    public static EdgeDataplane NewDataplane(string networkNamespace, string table = "edge_http_guard") =>
        NewDataplane(networkNamespace, out _, table);

    /// <summary>The real dataplane on the agent's default backend (libnftables), with every backend call logged.</summary>
    public static EdgeDataplane NewDataplane(string networkNamespace, out CallLoggingBackend calls, string table = "edge_http_guard")
    {
        var agent = Options.Create(new AgentOptions { DataCenter = "tst", Namespace = networkNamespace });
        var nftables = Options.Create(new NftablesOptions { Table = table, DriftCheckInterval = TimeSpan.FromSeconds(1) });
        calls = new CallLoggingBackend(new LibNftablesBackend(agent));
        return new EdgeDataplane(calls, TestMetrics.Agent(), agent, nftables, NullLogger<EdgeDataplane>.Instance);
    }
}

/// <summary>
/// A seam in front of a real backend that logs every call: "apply", "list structure", "read rules",
/// "read ports", "read set NAME", "check". Tests assert on what a change asked of the kernel, not on how long it took.
/// </summary>
internal sealed class CallLoggingBackend(INftBackend inner) : INftBackend, IDisposable
{
    public void Dispose() => (inner as IDisposable)?.Dispose();

    private readonly List<string> calls = [];

    public bool CanReadBack => inner.CanReadBack;

    /// <summary>The calls since the last <see cref="Clear"/>, in order.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (calls)
            {
                return [.. calls];
            }
        }
    }

    /// <summary>The batches applied since the last <see cref="Clear"/>.</summary>
    public List<string> Batches { get; } = [];

    public void Clear()
    {
        lock (calls)
        {
            calls.Clear();
            Batches.Clear();
        }
    }

    public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        Log("check");
        return inner.CheckAsync(cancellationToken);
    }

    public Task<StructureListing> ListStructureAsync(CancellationToken cancellationToken)
    {
        Log("list structure");
        return inner.ListStructureAsync(cancellationToken);
    }

    public Task<IReadOnlyList<int>> ReadPortsAsync(string table, string setName, CancellationToken cancellationToken)
    {
        Log("read ports");
        return inner.ReadPortsAsync(table, setName, cancellationToken);
    }

    public Task<IReadOnlyList<string>> ReadRuleCommentsAsync(string table, string chain, CancellationToken cancellationToken)
    {
        Log("read rules");
        return inner.ReadRuleCommentsAsync(table, chain, cancellationToken);
    }

    public Task<IReadOnlyList<KernelElement>> ReadSetAsync(string table, AddressSet addressSet, CancellationToken cancellationToken)
    {
        Log($"read set {addressSet.Name}");
        return inner.ReadSetAsync(table, addressSet, cancellationToken);
    }

    public IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync(CancellationToken cancellationToken) => inner.WatchGenerationsAsync(cancellationToken);

    public bool IsOwnWriter(int processId) => inner.IsOwnWriter(processId);

    public Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        lock (calls)
        {
            calls.Add("apply");
            Batches.Add(batch);
        }

        return inner.ApplyAsync(batch, cancellationToken);
    }

    private void Log(string call)
    {
        lock (calls)
        {
            calls.Add(call);
        }
    }
}
