using System.Globalization;
using System.Text.RegularExpressions;

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

    /// <summary>
    /// Every new ruleset generation of the namespace with the process that wrote it, as
    /// <c>nft monitor</c> reports them, until cancelled. Yields nothing, and waits for
    /// cancellation, when the backend has no kernel.
    /// </summary>
    /// <exception cref="NftException">The monitor exited by itself.</exception>
    /// <exception cref="DataplaneUnavailableException">nft is not installed.</exception>
    IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync(CancellationToken cancellationToken);

    /// <summary>True when a process id is this backend's own writer: one of its nft calls, or the agent itself.</summary>
    bool IsOwnWriter(int processId);

    /// <summary>Applies a batch as one atomic transaction (<c>nft -f</c>).</summary>
    /// <exception cref="NftException">nft refused the batch; nothing of it was applied.</exception>
    Task ApplyAsync(string batch, CancellationToken cancellationToken);
}

/// <summary>
/// A new ruleset generation (the kernel's counter of committed transactions) and the process that
/// wrote it, from <c>nft monitor</c>'s line <c># new generation 4 by process 15634 (nft)</c>.
/// </summary>
public sealed partial record RulesetGeneration(long Generation, int ProcessId, string Command)
{
    /// <summary>The generation a monitor line announces; null for every other line.</summary>
    public static RulesetGeneration? Parse(string line)
    {
        var match = GenerationLine().Match(line);
        return match.Success
            ? new RulesetGeneration(
                long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
                match.Groups[3].Value)
            : null;
    }

    [GeneratedRegex(@"^# new generation (\d+) by process (\d+) \((.*)\)$")]
    private static partial Regex GenerationLine();
}

/// <summary>nft refused a batch. The kernel is unchanged: batches are atomic.</summary>
public sealed class NftException(string message) : Exception(message);
