using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Development backend for machines where the agent has no CAP_NET_ADMIN: it never
/// touches the kernel and writes what it would apply into a directory instead.
/// Tests of behaviour use <see cref="NftDataplane"/>.
/// </summary>
public sealed class RecordingDataplane(IOptions<AgentOptions> options) : IDataplane
{
    public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(options.Value.RecordingDirectory);
            return Task.FromResult(DataplaneHealth.Healthy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(new DataplaneHealth(false, $"cannot write recordings to '{options.Value.RecordingDirectory}': {e.Message}"));
        }
    }
}
