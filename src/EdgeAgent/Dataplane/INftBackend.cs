namespace EdgeAgent.Dataplane;

/// <summary>Where nft batches go: the kernel, or a folder of recordings.</summary>
public interface INftBackend
{
    /// <summary>False when the backend cannot list what it applied (recording), so drift checks are off.</summary>
    bool CanReadBack { get; }

    Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken);

    /// <summary><c>nft -j list table inet NAME</c>, or null when the table does not exist.</summary>
    Task<string?> ListTableAsync(string table, CancellationToken cancellationToken);

    /// <summary>
    /// <c>nft -j list set inet TABLE SET</c>: one set with its elements and their counters, the
    /// periodic counter read's only kernel call per counting set. Null when the table or the set
    /// does not exist.
    /// </summary>
    /// <exception cref="NftException">nft failed for another reason.</exception>
    Task<string?> ListSetAsync(string table, string setName, CancellationToken cancellationToken);

    /// <summary>Applies a batch as one atomic transaction (<c>nft -f</c>).</summary>
    /// <exception cref="NftException">nft refused the batch; nothing of it was applied.</exception>
    Task ApplyAsync(string batch, CancellationToken cancellationToken);
}

/// <summary>nft refused a batch. The kernel is unchanged: batches are atomic.</summary>
public sealed class NftException(string message) : Exception(message);
