namespace ControlPlane.Contracts;

/// <summary>
/// Published by an edge agent when it starts and then on every heartbeat, so the
/// control plane knows which data centers have a live agent and whether that agent
/// can program its kernel.
/// </summary>
/// <param name="DataCenter">The data-center code the agent serves, such as <c>ams</c>.</param>
/// <param name="AgentVersion">The agent's informational version.</param>
/// <param name="Ready">True when the agent is connected and its dataplane backend works.</param>
/// <param name="Reason">Why the agent is not ready; null when it is.</param>
/// <param name="ReportedAt">When the agent took the reading.</param>
public sealed record AgentStatusReported(
    string DataCenter,
    string AgentVersion,
    bool Ready,
    string? Reason,
    DateTimeOffset ReportedAt);
