using ControlPlane.Contracts;

namespace EdgeAgent.Dataplane;

/// <summary>Whether the agent can program its kernel, and if not, why.</summary>
public sealed record DataplaneHealth(bool Ready, string? Reason)
{
    public static readonly DataplaneHealth Healthy = new(true, null);
}

/// <summary>
/// SYNs to a zone's addresses on the plaintext ports since the last read: all of them
/// (attempted), and those that arrived while the zone was closed here (blocked).
/// </summary>
public sealed record ZoneSynCounts(long V4, long V6, long BlockedV4 = 0, long BlockedV6 = 0);

/// <summary>The part of the agent that talks to the kernel's packet filter.</summary>
public interface IDataplane
{
    Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken);

    /// <summary>True once a desired state was given; until then the kernel is left exactly as found.</summary>
    bool HasDesiredState { get; }

    /// <summary>Zones left out of the last desired state, with the reason.</summary>
    IReadOnlyDictionary<string, string> Failures { get; }

    /// <summary>The same failures with the revision each zone failed at, for status reports.</summary>
    IReadOnlyList<ZoneFailure> FailedZones { get; }

    /// <summary>How many drift checks found the table damaged and repaired it.</summary>
    long DriftRepairs { get; }

    /// <summary>Makes the table hold exactly this state: reads the kernel, applies the difference in one transaction.</summary>
    Task ConvergeAsync(IEnumerable<ZoneEdgeState> zones, CancellationToken cancellationToken);

    /// <summary>Applies changed zones on top of the current state, touching only their elements.</summary>
    Task ApplyAsync(IEnumerable<ZoneEdgeState> changed, CancellationToken cancellationToken);

    /// <summary>Re-reads the table and repairs any drift from the desired state; true when something was repaired.</summary>
    Task<bool> RepairDriftAsync(CancellationToken cancellationToken);

    /// <summary>Per-zone SYN counts since the last call; zones without traffic are left out.</summary>
    Task<IReadOnlyDictionary<string, ZoneSynCounts>> ReadCountersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Ruleset generations written by anyone but the agent (someone ran nft), until cancelled: the
    /// drift check's signal. Nothing when the backend has no kernel.
    /// </summary>
    /// <exception cref="NftException">The kernel monitor exited; watch again after a pause.</exception>
    IAsyncEnumerable<RulesetGeneration> WatchForeignChangesAsync(CancellationToken cancellationToken);

    /// <summary>Removes the agent's table, and nothing else.</summary>
    Task UninstallAsync(CancellationToken cancellationToken);
}
