namespace ControlPlane.Contracts;

/// <summary>
/// SYNs to zones' plaintext HTTP ports seen by one data center over one interval. Zones
/// without traffic are left out, and a large interval is split into several messages;
/// <paramref name="ReportId"/> is unique per message, so a redelivery is counted once.
/// </summary>
/// <param name="ReportId">Unique per message (DC, interval, batch).</param>
/// <param name="DataCenter">The reporting DC.</param>
/// <param name="IntervalStart">Start of the counting interval.</param>
/// <param name="IntervalEnd">End of the counting interval.</param>
/// <param name="Zones">Per-zone counts.</param>
public sealed record PlaintextTrafficCounted(
    Guid ReportId,
    string DataCenter,
    DateTimeOffset IntervalStart,
    DateTimeOffset IntervalEnd,
    IReadOnlyList<ZoneTraffic> Zones);

/// <summary>Connection attempts (SYNs) to a zone's plaintext ports, and how many of them were refused.</summary>
public sealed record ZoneTraffic(string ZoneId, long AttemptedV4, long AttemptedV6, long BlockedV4, long BlockedV6);
