using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The kernel through the nft binary (<c>Agent:Backend=nft</c>): a process per batch, in the
/// configured network namespace. Reads as every kernel backend does (<see cref="KernelBackend"/>).
/// </summary>
public sealed class NftBackend : KernelBackend
{
    /// <summary>How many of its latest nft processes the backend remembers as its own writers.</summary>
    private const int RememberedWriters = 256;

    private readonly Queue<int> writers = new();
    private readonly HashSet<int> writerSet = [];

    public NftBackend(IOptions<AgentOptions> options)
        : base(options.Value.Namespace, started: null) =>
        Writer = new NftCommand(options.Value.Namespace, started: RememberWriter);

    /// <summary>The nft calls that write (their pids are the agent's own generations).</summary>
    private NftCommand Writer { get; }

    public override async Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Listing chains needs CAP_NET_ADMIN in the target namespace, exactly what applying
            // a ruleset needs, and unlike "list tables" it does not load every set element.
            var result = await Cli.RunAsync(["list", "chains"], null, cancellationToken);
            return result.Succeeded
                ? DataplaneHealth.Healthy
                : new DataplaneHealth(false, $"nft failed (exit {result.ExitCode}): {result.StandardError}");
        }
        catch (DataplaneUnavailableException e)
        {
            return new DataplaneHealth(false, e.Message);
        }
    }

    public override bool IsOwnWriter(int processId)
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

    public override async Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        var result = await Writer.RunAsync(["-f", "-"], batch, cancellationToken);
        if (!result.Succeeded)
        {
            throw new NftException($"nft -f failed (exit {result.ExitCode}): {result.StandardError}");
        }
    }
}
