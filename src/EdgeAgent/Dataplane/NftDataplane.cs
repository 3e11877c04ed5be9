using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>The real backend: programs nftables in the configured network namespace.</summary>
public sealed class NftDataplane(IOptions<AgentOptions> options) : IDataplane
{
    private readonly NftCommand nft = new(options.Value.Namespace);

    public async Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Listing tables needs CAP_NET_ADMIN in the target namespace, exactly
            // what applying a ruleset needs, so it is an honest readiness probe.
            var result = await nft.RunAsync(["list", "tables"], null, cancellationToken);
            return result.Succeeded
                ? DataplaneHealth.Healthy
                : new DataplaneHealth(false, $"nft failed (exit {result.ExitCode}): {result.StandardError}");
        }
        catch (DataplaneUnavailableException e)
        {
            return new DataplaneHealth(false, e.Message);
        }
    }
}
