namespace EdgeAgent.Dataplane;

/// <summary>Whether the agent can program its kernel, and if not, why.</summary>
public sealed record DataplaneHealth(bool Ready, string? Reason)
{
    public static readonly DataplaneHealth Healthy = new(true, null);
}

/// <summary>The part of the agent that talks to the kernel's packet filter.</summary>
public interface IDataplane
{
    Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken);
}
