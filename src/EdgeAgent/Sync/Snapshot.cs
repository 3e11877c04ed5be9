using ControlPlane.Contracts;

namespace EdgeAgent.Sync;

/// <summary>A consistent picture of every zone at one revision.</summary>
/// <param name="Revision">The change-log revision the picture is from; the agent applies revisions after it.</param>
/// <param name="Zones">The edge state of every zone, each at or below <paramref name="Revision"/>.</param>
public sealed record Snapshot(long Revision, IReadOnlyList<ZoneEdgeState> Zones);
