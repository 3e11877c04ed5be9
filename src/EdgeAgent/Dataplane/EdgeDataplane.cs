using ControlPlane.Contracts;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Keeps the agent's nftables table equal to the desired edge state. All work is
/// serialised: one batch at a time, each batch one atomic transaction.
/// </summary>
/// <remarks>
/// Counters: nft's per-element counters restart at zero when an element is re-added,
/// so the agent remembers the last value it read per element and banks an element's
/// count before it removes it. A reading lower than the remembered one means the
/// element was re-added behind our back; its whole value is then new traffic.
/// </remarks>
public sealed class EdgeDataplane(
    INftBackend backend,
    IOptions<AgentOptions> agentOptions,
    IOptions<NftablesOptions> nftablesOptions,
    ILogger<EdgeDataplane> logger) : IDataplane, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly EdgeRuleset ruleset = new(nftablesOptions.Value);
    private readonly string dataCenter = agentOptions.Value.DataCenter;
    private readonly Dictionary<string, long> lastCounterReading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ZoneSynCounts> banked = new(StringComparer.Ordinal);
    private DesiredEdgeState? desired;

    /// <summary>True while the kernel is known to hold <see cref="desired"/>; false sends the next change through a full converge.</summary>
    private bool inSync;

    private long driftRepairs;

    public bool HasDesiredState => desired is not null;

    public IReadOnlyDictionary<string, string> Failures => desired?.Failures ?? new Dictionary<string, string>();

    public IReadOnlyList<ZoneFailure> FailedZones => desired?.FailureDetails ?? [];

    public long DriftRepairs => Interlocked.Read(ref driftRepairs);

    /// <summary>The last batch sent to nft, for tests and benchmarks that check what a change touches.</summary>
    public string? LastBatch { get; private set; }

    public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken) => backend.CheckAsync(cancellationToken);

    public async Task ConvergeAsync(IEnumerable<ZoneEdgeState> zones, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            desired = DesiredEdgeState.Build(zones, dataCenter);
            LogFailures(desired.Failures.Keys);
            await ConvergeLockedAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task ApplyAsync(IEnumerable<ZoneEdgeState> changed, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Without a full desired state, applying a few zones would mean guessing
            // about all the others; the caller must converge to a snapshot first.
            var state = desired ?? throw new InvalidOperationException("Converge to a full desired state before applying changes.");
            var batchZones = changed.ToList();
            var changes = state.Apply(batchZones);
            LogFailures(batchZones.Select(z => z.ZoneId));
            if (!inSync)
            {
                await ConvergeLockedAsync(cancellationToken);
                return;
            }

            if (changes.Count == 0)
            {
                return;
            }

            await BankBeforeChangeAsync(state, changes, cancellationToken);
            try
            {
                await SendAsync(ruleset.Changes(changes), cancellationToken);
            }
            catch (NftException e)
            {
                // The kernel is not what we believed (someone edited it): fall back to a
                // full read-diff-apply, which is correct whatever the kernel holds.
                logger.LogWarning("Incremental change refused, converging fully instead: {Error}", e.Message);
                inSync = false;
                await ConvergeLockedAsync(cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<bool> RepairDriftAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (desired is null || !backend.CanReadBack)
            {
                return false;
            }

            var repaired = await ConvergeLockedAsync(cancellationToken);
            if (repaired)
            {
                Interlocked.Increment(ref driftRepairs);
            }

            return repaired;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<IReadOnlyDictionary<string, ZoneSynCounts>> ReadCountersAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (desired is not null && inSync && backend.CanReadBack && await backend.ListTableAsync(ruleset.TableName, cancellationToken) is { } json)
            {
                Bank(KernelTable.Parse(json, ruleset).Counters, desired.AddressOwners.GetValueOrDefault, IsClosed(desired), _ => false);
            }

            var result = new Dictionary<string, ZoneSynCounts>(banked, StringComparer.Ordinal);
            banked.Clear();
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task UninstallAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            await SendAsync(ruleset.Uninstall(), cancellationToken);
            inSync = false;
            lastCounterReading.Clear();
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    /// <summary>Reads the kernel, applies the difference; true when the kernel differed.</summary>
    private async Task<bool> ConvergeLockedAsync(CancellationToken cancellationToken)
    {
        var target = desired!;
        inSync = false;
        if (!backend.CanReadBack)
        {
            await SendAsync(ruleset.Rebuild(target.Elements), cancellationToken);
            inSync = true;
            return false;
        }

        var json = await backend.ListTableAsync(ruleset.TableName, cancellationToken);
        string batch;
        if (json is null)
        {
            logger.LogInformation("Table inet {Table} is missing; creating it with {Zones} zones", ruleset.TableName, target.Zones.Count);
            lastCounterReading.Clear();
            batch = ruleset.Create(target.Elements);
        }
        else
        {
            var kernel = KernelTable.Parse(json, ruleset);
            var watched = target.Elements;
            // Count what the kernel holds before anything is removed or rebuilt.
            Bank(kernel.Counters, target.AddressOwners.GetValueOrDefault, IsClosed(target),
                element => !kernel.StructureMatches || !watched.WatchedV4.Contains(element) && !watched.WatchedV6.Contains(element));
            if (kernel.StructureMatches)
            {
                batch = ruleset.Diff(kernel.Elements, target.Elements);
                Forget(target.Elements.WatchedV4.Except(kernel.Elements.WatchedV4).Concat(target.Elements.WatchedV6.Except(kernel.Elements.WatchedV6)));
            }
            else
            {
                logger.LogWarning("Table inet {Table} is damaged ({Problem}); rebuilding it in one transaction", ruleset.TableName, kernel.StructureProblem);
                batch = ruleset.Rebuild(target.Elements);
            }
        }

        if (batch.Length > 0)
        {
            await SendAsync(batch, cancellationToken);
        }

        inSync = true;
        return batch.Length > 0;
    }

    /// <summary>
    /// Banks the counters of every element a change touches, before it is applied: a
    /// removed element loses its counter, and an element that is closed or opened starts
    /// counting as blocked or not, so what came before must be booked under the old state.
    /// </summary>
    private async Task BankBeforeChangeAsync(DesiredEdgeState state, IReadOnlyList<ElementChange> changes, CancellationToken cancellationToken)
    {
        var touched = changes.Select(c => c.Element).ToHashSet(StringComparer.Ordinal);
        if (touched.Count > 0 && backend.CanReadBack && await backend.ListTableAsync(ruleset.TableName, cancellationToken) is { } json)
        {
            var removed = changes.Where(c => !c.Add && c.Set is EdgeRuleset.WatchedV4 or EdgeRuleset.WatchedV6)
                .ToDictionary(c => c.Element, c => c.ZoneId, StringComparer.Ordinal);
            var flipped = changes.Where(c => c.Set is EdgeRuleset.ClosedV4 or EdgeRuleset.ClosedV6).Select(c => c.Element).ToHashSet(StringComparer.Ordinal);
            var closedNow = IsClosed(state);
            var readings = KernelTable.Parse(json, ruleset).Counters.Where(r => touched.Contains(r.Key)).ToDictionary();
            Bank(readings,
                element => removed.TryGetValue(element, out var owner) ? owner : state.AddressOwners.GetValueOrDefault(element),
                element => closedNow(element) ^ flipped.Contains(element),
                removed.ContainsKey);
        }

        Forget(changes.Where(c => c.Add && c.Set is EdgeRuleset.WatchedV4 or EdgeRuleset.WatchedV6).Select(c => c.Element));
    }

    private static Func<string, bool> IsClosed(DesiredEdgeState state) =>
        element => state.Elements.Closed(element.Contains(':', StringComparison.Ordinal)).Contains(element);

    /// <summary>
    /// Adds each element's growth since the last reading to its owning zone, as blocked
    /// too when the element was closed over that time. Elements
    /// selected by <paramref name="leaving"/> are about to disappear (or restart at
    /// zero), so their remembered reading is dropped.
    /// </summary>
    private void Bank(IReadOnlyDictionary<string, long> readings, Func<string, string?> ownerOf, Func<string, bool> closed, Func<string, bool> leaving)
    {
        foreach (var (element, packets) in readings)
        {
            var last = lastCounterReading.GetValueOrDefault(element);
            var delta = packets >= last ? packets - last : packets;
            if (leaving(element))
            {
                lastCounterReading.Remove(element);
            }
            else
            {
                lastCounterReading[element] = packets;
            }

            if (delta == 0 || ownerOf(element) is not { } zone)
            {
                continue;
            }

            var isV6 = element.Contains(':', StringComparison.Ordinal);
            var blocked = closed(element) ? delta : 0;
            var sum = banked.GetValueOrDefault(zone) ?? new ZoneSynCounts(0, 0);
            banked[zone] = isV6
                ? sum with { V6 = sum.V6 + delta, BlockedV6 = sum.BlockedV6 + blocked }
                : sum with { V4 = sum.V4 + delta, BlockedV4 = sum.BlockedV4 + blocked };
        }
    }

    /// <summary>Elements about to be (re-)added start counting from zero.</summary>
    private void Forget(IEnumerable<string> elements)
    {
        foreach (var element in elements)
        {
            lastCounterReading.Remove(element);
        }
    }

    private async Task SendAsync(string batch, CancellationToken cancellationToken)
    {
        LastBatch = batch;
        await backend.ApplyAsync(batch, cancellationToken);
    }

    private void LogFailures(IEnumerable<string> zoneIds)
    {
        var failures = desired?.Failures ?? new Dictionary<string, string>();
        foreach (var zone in zoneIds)
        {
            if (failures.TryGetValue(zone, out var error))
            {
                logger.LogWarning("Zone {Zone} not applied: {Error}", zone, error);
            }
        }
    }
}
