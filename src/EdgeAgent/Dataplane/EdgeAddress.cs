using System.Net;
using System.Net.Sockets;

namespace EdgeAgent.Dataplane;

/// <summary>
/// One zone address as nftables sees it: an IPv4 or IPv6 prefix, written canonically
/// (a single host without its /32 or /128) so kernel listings and desired state compare
/// as plain strings.
/// </summary>
public readonly record struct EdgeAddress(bool IsV6, UInt128 First, UInt128 Last, string Text)
{
    public static bool TryParse(string? value, out EdgeAddress address, out string error)
    {
        address = default;
        var withPrefix = value is null || value.Contains('/', StringComparison.Ordinal) ? value : HostPrefix(value);
        // IPNetwork would quietly mask host bits; a prefix with host bits set is a typo we refuse.
        if (string.IsNullOrWhiteSpace(withPrefix) || !IPNetwork.TryParse(withPrefix, out var network)
            || !IPAddress.TryParse(withPrefix.AsSpan(0, withPrefix.IndexOf('/', StringComparison.Ordinal)), out var given)
            || !given.Equals(network.BaseAddress))
        {
            error = $"'{value}' is not an IPv4 or IPv6 address or CIDR prefix with its host bits zero";
            return false;
        }

        var isV6 = network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
        if (isV6 && network.BaseAddress.IsIPv4MappedToIPv6)
        {
            error = $"'{value}' is an IPv4-mapped IPv6 address; give the IPv4 address instead";
            return false;
        }

        var bits = isV6 ? 128 : 32;
        var first = ToNumber(network.BaseAddress);
        var size = network.PrefixLength == 0 ? (isV6 ? UInt128.MaxValue : uint.MaxValue) : (UInt128.One << (bits - network.PrefixLength)) - 1;
        var text = network.PrefixLength == bits ? network.BaseAddress.ToString() : network.ToString();
        address = new EdgeAddress(isV6, first, first + size, text);
        error = "";
        return true;
    }

    /// <summary>True for one address (a /32 or /128), which goes in a hash set; false for a wider prefix.</summary>
    public bool IsSingle => First == Last;

    public bool Overlaps(EdgeAddress other) => IsV6 == other.IsV6 && First <= other.Last && other.First <= Last;

    public override string ToString() => Text;

    private static string HostPrefix(string value) =>
        IPAddress.TryParse(value, out var ip) ? $"{ip}/{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32)}" : value;

    private static UInt128 ToNumber(IPAddress ip)
    {
        var bytes = ip.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }
}
