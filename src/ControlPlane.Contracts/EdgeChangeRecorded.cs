namespace ControlPlane.Contracts;

/// <summary>
/// One row of the change log, published to every data center: the revision and the full
/// edge state of each zone it changed. Agents apply revisions strictly in order.
/// </summary>
/// <param name="Revision">Global, dense, gap-free revision of the change log.</param>
/// <param name="Zones">The full edge state of every zone the change touched.</param>
/// <param name="RecordedAt">When the change was committed.</param>
public sealed record EdgeChangeRecorded(long Revision, IReadOnlyList<ZoneEdgeState> Zones, DateTimeOffset RecordedAt);
