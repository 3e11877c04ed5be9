using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Development backend for machines where the agent has no CAP_NET_ADMIN: it never
/// touches the kernel and writes each batch it would apply to a numbered file
/// instead. Tests of behaviour use <see cref="NftBackend"/>.
/// </summary>
public sealed class RecordingBackend(IOptions<AgentOptions> options) : INftBackend
{
    private int sequence;

    private string Directory => options.Value.RecordingDirectory;

    public bool CanReadBack => false;

    public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            return Task.FromResult(DataplaneHealth.Healthy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(new DataplaneHealth(false, $"cannot write recordings to '{Directory}': {e.Message}"));
        }
    }

    public Task<StructureListing> ListStructureAsync(CancellationToken cancellationToken) => throw CannotReadBack();

    public Task<IReadOnlyList<int>> ReadPortsAsync(string table, string setName, CancellationToken cancellationToken) => throw CannotReadBack();

    public Task<IReadOnlyList<string>> ReadRuleCommentsAsync(string table, string chain, CancellationToken cancellationToken) => throw CannotReadBack();

    public Task<IReadOnlyList<KernelElement>> ReadSetAsync(string table, AddressSet addressSet, CancellationToken cancellationToken) => throw CannotReadBack();

    public async IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // No kernel, so nothing else writes to it: wait for shutdown.
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }

    public bool IsOwnWriter(int processId) => true;

    public async Task ApplyAsync(string batch, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Increment(ref sequence):D6}.nft");
        await File.WriteAllTextAsync(Path.Combine(Directory, name), batch, cancellationToken);
    }

    private static NotSupportedException CannotReadBack() => new("the recording backend cannot read back");
}
