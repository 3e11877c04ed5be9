using System.Net;

namespace ControlPlane.Api.Infrastructure;

/// <summary>The address a request came from, as the audit log and token conditions see it.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The peer address of the connection, with an IPv4-mapped IPv6 address (<c>::ffff:192.0.2.1</c>,
    /// as a dual-stack listener reports IPv4 clients) turned back into IPv4; null outside a request.
    /// </summary>
    public static IPAddress? Of(HttpContext? context) => Normalize(context?.Connection.RemoteIpAddress);

    /// <summary>IPv4-mapped IPv6 becomes IPv4; anything else is returned as it is.</summary>
    public static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
