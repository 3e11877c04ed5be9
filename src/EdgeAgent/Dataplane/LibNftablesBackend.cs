using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The agent's default backend (<c>Agent:Backend=libnftables</c>): batches go through
/// libnftables in-process, without a process per call (about 1 ms per change at 100k zones
/// against 40 ms for <c>nft -f</c>, docs/benchmarks-backends.md). One context on one dedicated
/// thread inside the configured namespace applies every batch in arrival order. Set elements,
/// rule comments and the drift signal come from <see cref="NftNetlinkReader"/>, the structure
/// from two terse nft listings.
/// </summary>
public sealed class LibNftablesBackend(IOptions<AgentOptions> options) : KernelBackend(options.Value.Namespace), IDisposable
{
    private readonly NftContextThread nft = new(options.Value.Namespace);

    /// <summary>
    /// Ready when the library loads, the namespace can be entered and the kernel answers a
    /// listing (which needs CAP_NET_ADMIN there, as applying does). Not ready otherwise, with
    /// the reason: a missing library or namespace is never an exception here.
    /// </summary>
    public override async Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Not "list tables" as NftBackend does: nft 1.0.6 fills its whole cache for that,
            // set elements included (over a second at 100k zones), and this thread is the one
            // every change waits for. Chains are a cheap listing needing the same privilege.
            var result = await nft.RunCommandAsync("list chains", json: false, cancellationToken);
            return result.Succeeded
                ? DataplaneHealth.Healthy
                : new DataplaneHealth(false, $"libnftables: list chains failed: {result.StandardError}");
        }
        catch (DataplaneUnavailableException e)
        {
            return new DataplaneHealth(false, e.Message);
        }
    }

    /// <summary>The context's thread commits the agent's batches; the nft binary, used only to list, never writes.</summary>
    public override bool IsOwnWriter(int processId) => processId == nft.OsThreadId || processId == Environment.ProcessId;

    /// <inheritdoc/>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded or the namespace entered.</exception>
    public override async Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        var result = await nft.RunBatchAsync(batch, cancellationToken);
        if (!result.Succeeded)
        {
            throw new NftException($"libnftables refused the batch: {result.StandardError}");
        }
    }

    /// <summary>Waits for queued calls, stops the thread and frees the context.</summary>
    public void Dispose()
    {
        nft.Dispose();
    }
}
