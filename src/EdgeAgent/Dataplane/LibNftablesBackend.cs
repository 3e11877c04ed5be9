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
public sealed class LibNftablesBackend(IOptions<AgentOptions> options) : INftBackend, IDisposable
{
    private readonly NftContextThread nft = new(options.Value.Namespace);
    private readonly NftCommand cli = new(options.Value.Namespace);
    private readonly NftNetlinkReader netlink = new(options.Value.Namespace);

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

    /// <summary>
    /// Through the nft binary, terse: two cheap listings that skip elements. Run in-process they
    /// would refill the context's cache with every element of the table (nft 1.0.6 has no terse
    /// flag for a context here), and stall the changes queued behind them on the one thread.
    /// </summary>
    public async Task<StructureListing> ListStructureAsync(CancellationToken cancellationToken) =>
        new(await ListAsync(["-t", "-j", "list", "sets", "inet"], cancellationToken),
            await ListAsync(["-j", "list", "chains", "inet"], cancellationToken));

    public Task<IReadOnlyList<int>> ReadPortsAsync(string table, string setName, CancellationToken cancellationToken) =>
        netlink.ReadPortsAsync(table, setName, cancellationToken);

    public Task<IReadOnlyList<string>> ReadRuleCommentsAsync(string table, string chain, CancellationToken cancellationToken) =>
        netlink.ReadRuleCommentsAsync(table, chain, cancellationToken);

    public Task<IReadOnlyList<KernelElement>> ReadSetAsync(string table, AddressSet addressSet, CancellationToken cancellationToken) =>
        netlink.ReadSetAsync(table, addressSet, cancellationToken);

    public IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync(CancellationToken cancellationToken) =>
        netlink.WatchGenerationsAsync(cancellationToken);

    /// <summary>The context's thread commits the agent's batches; the nft binary, used only to list, never writes.</summary>
    public bool IsOwnWriter(int processId) => processId == nft.OsThreadId || processId == Environment.ProcessId;

    private async Task<string> ListAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await cli.RunAsync(arguments, null, cancellationToken);
        return result.Succeeded
            ? result.StandardOutput
            : throw new NftException($"nft {string.Join(' ', arguments)} failed (exit {result.ExitCode}): {result.StandardError}");
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
    public void Dispose()
    {
        nft.Dispose();
    }
}
