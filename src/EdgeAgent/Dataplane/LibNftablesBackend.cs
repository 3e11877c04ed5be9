using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The kernel through libnftables in-process (<c>Agent:Backend=libnftables</c>): the same
/// contract as <see cref="NftBackend"/>, without a process per call. One context on one
/// dedicated thread inside the configured namespace serves every call in arrival order, and
/// its cache outlives a call (see docs/dataplane.md, "Kernel access").
/// </summary>
public sealed class LibNftablesBackend(IOptions<AgentOptions> options) : INftBackend, IDisposable
{
    private readonly NftContextThread nft = new(options.Value.Namespace);

    public bool CanReadBack => true;

    /// <summary>
    /// Ready when the library loads, the namespace can be entered and the kernel answers a
    /// listing (which needs CAP_NET_ADMIN there, as applying does). Not ready otherwise, with
    /// the reason: a missing library or namespace is never an exception here.
    /// </summary>
    public async Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
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

    /// <inheritdoc/>
    /// <exception cref="NftException">The listing failed for another reason than a missing table.</exception>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded or the namespace entered.</exception>
    public Task<string?> ListTableAsync(string table, CancellationToken cancellationToken) =>
        ListAsync($"list table inet {table}", cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded or the namespace entered.</exception>
    public Task<string?> ListSetAsync(string table, string setName, CancellationToken cancellationToken) =>
        ListAsync($"list set inet {table} {setName}", cancellationToken);

    private async Task<string?> ListAsync(string command, CancellationToken cancellationToken)
    {
        var result = await nft.RunCommandAsync(command, json: true, cancellationToken);
        if (result.Succeeded)
        {
            return result.StandardOutput;
        }

        // As with the nft binary: ENOENT both for a missing table and for a missing set in it.
        return result.StandardError.Contains("No such file or directory", StringComparison.Ordinal)
            ? null
            : throw new NftException($"libnftables: {command} failed: {result.StandardError}");
    }

    /// <inheritdoc/>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded or the namespace entered.</exception>
    public async Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        var result = await nft.RunBatchAsync(batch, cancellationToken);
        if (!result.Succeeded)
        {
            throw new NftException($"libnftables refused the batch: {result.StandardError}");
        }
    }

    /// <summary>Waits for queued calls, stops the thread and frees the context.</summary>
    public void Dispose() => nft.Dispose();
}
