namespace ControlPlane.Contracts;

/// <summary>
/// Published by an edge agent after each apply and on every heartbeat (xDS style): what
/// it has applied, in order, and what it could not apply.
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
    DateTimeOffset ReportedAt)
{
    /// <summary>The highest revision applied in order; 0 before the first snapshot.</summary>
    public long Watermark { get; init; }

    /// <summary>Zones the agent could not apply, with the reason.</summary>
    public IReadOnlyList<ZoneFailure> FailedZones { get; init; } = [];

    /// <summary>How many times the agent found its table damaged and repaired it.</summary>
    public long DriftRepairs { get; init; }

    /// <summary>How many times one of the agent's background loops failed and retried, since it started.</summary>
    public long LoopFailures { get; init; }

    /// <summary>The latest loop failure, as "loop: exception type: message" (for example "sync: NftException: …"); null when none.</summary>
    public string? LastLoopError { get; init; }
}

/// <summary>A zone an agent could not apply, as of the revision it tried.</summary>
public sealed record ZoneFailure(string ZoneId, long Revision, string Error);
