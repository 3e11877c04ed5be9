using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The real backend, in the configured network namespace: writes and structure listings through
/// the nft binary, set elements and rule comments through <see cref="NftNetlinkReader"/>.
/// </summary>
public sealed class NftBackend : INftBackend
{
    /// <summary>How many of its latest nft processes the backend remembers as its own writers.</summary>
    private const int RememberedWriters = 256;

    private readonly NftCommand nft;
    private readonly Queue<int> writers = new();
    private readonly HashSet<int> writerSet = [];

    private readonly NftNetlinkReader netlink;

    public NftBackend(IOptions<AgentOptions> options)
    {
        nft = new NftCommand(options.Value.Namespace, started: RememberWriter);
        netlink = new NftNetlinkReader(options.Value.Namespace);
    }

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

    public bool IsOwnWriter(int processId)
    {
        lock (writers)
        {
            return processId == Environment.ProcessId || writerSet.Contains(processId);
        }
    }

    private void RememberWriter(int processId)
    {
        lock (writers)
        {
            writers.Enqueue(processId);
            writerSet.Add(processId);
            if (writers.Count > RememberedWriters)
            {
                writerSet.Remove(writers.Dequeue());
            }
        }
    }

    private async Task<string> ListAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await nft.RunAsync(arguments, null, cancellationToken);
        return result.Succeeded
            ? result.StandardOutput
            : throw new NftException($"nft {string.Join(' ', arguments)} failed (exit {result.ExitCode}): {result.StandardError}");
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
