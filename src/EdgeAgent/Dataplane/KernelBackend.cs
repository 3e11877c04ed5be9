namespace EdgeAgent.Dataplane;

/// <summary>
/// What both kernel backends share: reads. Set elements, rule comments, ports and the drift signal
/// come over netlink (<see cref="NftNetlinkReader"/>); the structure from two terse listings of the
/// nft binary, which skip elements. Subclasses decide how batches are written.
/// </summary>
public abstract class KernelBackend : INftBackend
{
    private readonly NftNetlinkReader netlink;

    /// <param name="networkNamespace">The DC's namespace under /run/netns; null or empty for the agent's own.</param>
    /// <param name="started">Told the process id of every nft the backend starts (see <see cref="NftCommand"/>).</param>
    protected KernelBackend(string? networkNamespace, Action<int>? started = null)
    {
        Cli = new NftCommand(networkNamespace, started: started);
        netlink = new NftNetlinkReader(networkNamespace);
    }

    public bool CanReadBack => true;

    /// <summary>The nft binary in the DC's namespace.</summary>
    protected NftCommand Cli { get; }

    public abstract Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken);

    public abstract Task ApplyAsync(string batch, CancellationToken cancellationToken);

    public abstract bool IsOwnWriter(int processId);

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

    private async Task<string> ListAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await Cli.RunAsync(arguments, null, cancellationToken);
        return result.Succeeded
            ? result.StandardOutput
            : throw new NftException($"nft {string.Join(' ', arguments)} failed (exit {result.ExitCode}): {result.StandardError}");
    }
}
