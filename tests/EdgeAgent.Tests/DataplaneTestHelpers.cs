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

    /// <summary>The real dataplane on the real nft backend, programming the given namespace.</summary>
    public static EdgeDataplane NewDataplane(string networkNamespace, string table = "edge_http_guard")
    {
        var agent = Options.Create(new AgentOptions { DataCenter = "tst", Namespace = networkNamespace });
        var nftables = Options.Create(new NftablesOptions { Table = table, DriftCheckInterval = TimeSpan.FromSeconds(1) });
        return new EdgeDataplane(new NftBackend(agent), agent, nftables, NullLogger<EdgeDataplane>.Instance);
    }
}
