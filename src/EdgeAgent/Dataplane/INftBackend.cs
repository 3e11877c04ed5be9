namespace EdgeAgent.Dataplane;

/// <summary>Where nft batches go: the kernel, or a folder of recordings.</summary>
public interface INftBackend
{
    /// <summary>False when the backend cannot list what it applied (recording), so drift checks are off.</summary>
    bool CanReadBack { get; }

    Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The structure of the namespace's <c>inet</c> tables without their elements: every set
    /// (name, type, flags, counter) as <c>nft -t -j list sets inet</c> prints them, and every chain
    /// as <c>nft -j list chains inet</c> does. Both are cheap at any table size.
    /// </summary>
    /// <exception cref="NftException">nft failed.</exception>
    Task<StructureListing> ListStructureAsync(CancellationToken cancellationToken);

    /// <summary>The ports of the table's <c>inet_service</c> set, ascending; empty when it does not exist.</summary>
    /// <exception cref="NftException">The kernel could not be read.</exception>
    Task<IReadOnlyList<int>> ReadPortsAsync(string table, string setName, CancellationToken cancellationToken);

    /// <summary>The comments of one chain's rules, in order ("" for a rule without one); empty when the chain does not exist.</summary>
    /// <exception cref="NftException">The kernel could not be read.</exception>
    Task<IReadOnlyList<string>> ReadRuleCommentsAsync(string table, string chain, CancellationToken cancellationToken);

    /// <summary>
    /// The elements of one set with their counters, and nothing else of the table: the read the
    /// periodic counter read and the drift check make per set. Empty when the set does not exist.
    /// </summary>
    /// <exception cref="NftException">The kernel could not be read.</exception>
    Task<IReadOnlyList<KernelElement>> ReadSetAsync(string table, AddressSet addressSet, CancellationToken cancellationToken);

    /// <summary>
    /// Every ruleset generation committed in the namespace with the process that wrote it, until
    /// cancelled. Yields nothing, and waits for cancellation, when the backend has no kernel.
    /// </summary>
    /// <exception cref="NftException">The kernel's announcements could not be received.</exception>
    /// <exception cref="DataplaneUnavailableException">nft is not installed.</exception>
    IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync(CancellationToken cancellationToken);

    /// <summary>True when a process id is this backend's own writer: one of its nft calls, or the agent itself.</summary>
    bool IsOwnWriter(int processId);

    /// <summary>Applies a batch as one atomic transaction (<c>nft -f</c>).</summary>
    /// <exception cref="NftException">nft refused the batch; nothing of it was applied.</exception>
    Task ApplyAsync(string batch, CancellationToken cancellationToken);
}

/// <summary>
/// A committed ruleset generation (the kernel's counter of transactions) and the process that
/// wrote it, as the kernel announces it (<c>NFT_MSG_NEWGEN</c>; <c>nft monitor</c> prints it as
/// <c># new generation 4 by process 15634 (nft)</c>). Generation -1 with process 0 stands for
/// announcements the kernel had to drop.
/// </summary>
public sealed record RulesetGeneration(long Generation, int ProcessId, string Command);

/// <summary>The JSON of <c>nft -t -j list sets inet</c> and of <c>nft -j list chains inet</c>.</summary>
public sealed record StructureListing(string SetsJson, string ChainsJson);

/// <summary>nft refused a batch. The kernel is unchanged: batches are atomic.</summary>
public sealed class NftException(string message) : Exception(message);
