using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>The real backend: the nft binary, in the configured network namespace.</summary>
public sealed class NftBackend(IOptions<AgentOptions> options) : INftBackend
{
    private readonly NftCommand nft = new(options.Value.Namespace);

    public bool CanReadBack => true;

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

    public async Task<string?> ListTableAsync(string table, CancellationToken cancellationToken)
    {
        var result = await nft.RunAsync(["-j", "list", "table", "inet", table], null, cancellationToken);
        if (result.Succeeded)
        {
            return result.StandardOutput;
        }

        return result.StandardError.Contains("No such file or directory", StringComparison.Ordinal)
            ? null
            : throw new NftException($"nft list table failed (exit {result.ExitCode}): {result.StandardError}");
    }

    public async Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        var result = await nft.RunAsync(["-f", "-"], batch, cancellationToken);
        if (!result.Succeeded)
        {
            throw new NftException($"nft -f failed (exit {result.ExitCode}): {result.StandardError}");
        }
    }
}
