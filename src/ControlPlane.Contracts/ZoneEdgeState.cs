namespace ControlPlane.Contracts;

/// <summary>
/// Everything an edge needs to enforce for one zone, as of one revision of the change
/// log. It is the full state, not a delta, so applying it twice is harmless.
/// </summary>
/// <param name="ZoneId">The zone's id (32 lowercase hex characters).</param>
/// <param name="Revision">The change-log revision this state is from.</param>
/// <param name="Addresses">The zone's dedicated edge addresses, IPv4 and IPv6, as addresses or CIDR prefixes.</param>
/// <param name="HttpPortsClosed">True when plaintext HTTP ports are closed for the zone (the <c>disable_http_ports</c> setting).</param>
/// <param name="EnforceIn">Data-center codes that enforce the setting; null means every data center.</param>
public sealed record ZoneEdgeState(
    string ZoneId,
    long Revision,
    IReadOnlyList<string> Addresses,
    bool HttpPortsClosed,
    IReadOnlyList<string>? EnforceIn);
