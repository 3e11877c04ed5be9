using System.Runtime.CompilerServices;
using ControlPlane.Contracts;
using EdgeAgent.Telemetry;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Keeps the agent's nftables table equal to the desired edge state. All work is
/// serialised: one batch at a time, each batch one atomic transaction.
/// </summary>
/// <remarks>
/// A change costs one <c>apply</c> holding only the elements it touches, and no read of the
/// kernel: counting is booked by <see cref="SynLedger"/> from the periodic counter read, which
/// lists only the counting sets. A full listing of the table happens only to converge (start-up,
/// a snapshot, a refused change) and to check for drift.
/// </remarks>
public sealed class EdgeDataplane(
    INftBackend backend,
    AgentMetrics metrics,
    IOptions<AgentOptions> agentOptions,
    IOptions<NftablesOptions> nftablesOptions,
    ILogger<EdgeDataplane> logger) : IDataplane, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly EdgeRuleset ruleset = new(nftablesOptions.Value);
    private readonly string dataCenter = agentOptions.Value.DataCenter;
    private readonly SynLedger ledger = new();
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
            var previous = desired;
            desired = DesiredEdgeState.Build(zones, dataCenter, ruleset.Layout);
            LogFailures(desired.Failures.Keys);
            // Zones the new state no longer has still get the counts the kernel holds for them.
            await ConvergeLockedAsync(element => previous?.AddressOwners.GetValueOrDefault(element), cancellationToken);
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
            // Planned first, so a deleted zone's counting elements retire under its id even when
            // the change goes through a full converge below, which books them before it deletes them.
            var send = ledger.Plan(changes);
            if (!inSync)
            {
                await ConvergeLockedAsync(_ => null, cancellationToken);
                return;
            }

            if (send.Count == 0)
            {
                CountTable();
                return;
            }

            try
            {
                await SendAsync(ruleset.Changes(send), cancellationToken);
                CountTable();
            }
            catch (NftException e)
            {
                // The kernel is not what we believed (someone edited it): fall back to a
                // full read-diff-apply, which is correct whatever the kernel holds.
                logger.LogWarning(e, "Incremental change refused, converging fully instead");
                inSync = false;
                await ConvergeLockedAsync(_ => null, cancellationToken);
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

            var repaired = await ConvergeLockedAsync(_ => null, cancellationToken);
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

    /// <summary>
    /// Lists each counting set (never the whole table), books the growth per zone, then deletes
    /// the counting elements that were only kept for this read.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ZoneSynCounts>> ReadCountersAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (desired is { } state && inSync && backend.CanReadBack)
            {
                var readings = new List<CounterReading>();
                // The sets are listed one after another, not atomically. A SYN passes the attempted
                // counter before the blocked one, so reading the blocked sets first means the
                // attempt of every blocked SYN reported so far has been reported too: summed over
                // the reports, blocked never runs ahead of attempted. (One report alone may still
                // hold an attempt whose block comes in the next, when the SYN fell between the reads.)
                foreach (var set in ruleset.Layout.CountingSets.OrderBy(s => s.Role == SetRole.Blocked ? 0 : 1))
                {
                    readings.AddRange(KernelTable.Counted(set, await ReadCountingSetAsync(set, cancellationToken)));
                }

                ledger.Book(readings, state.AddressOwners.GetValueOrDefault);
                await DeleteRetiredAsync(readings, cancellationToken);
            }

            return ledger.TakeCounts();
        }
        finally
        {
            gate.Release();
        }
    }

    public async IAsyncEnumerable<RulesetGeneration> WatchForeignChangesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var generation in backend.WatchGenerationsAsync(cancellationToken))
        {
            if (!backend.IsOwnWriter(generation.ProcessId))
            {
                yield return generation;
            }
        }
    }

    public async Task UninstallAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            await SendAsync(ruleset.Uninstall(), cancellationToken);
            inSync = false;
            ledger.ForgetAll();
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    private async Task DeleteRetiredAsync(List<CounterReading> readings, CancellationToken cancellationToken)
    {
        // Only what the kernel still has: deleting a missing element would refuse the batch.
        var present = readings.Select(r => (r.Set.Name, r.Element)).ToHashSet();
        var retired = ledger.TakeRetired().Where(c => present.Contains((c.Set.Name, c.Element))).ToList();
        if (retired.Count == 0)
        {
            return;
        }

        try
        {
            await SendAsync(ruleset.Changes(retired), cancellationToken);
        }
        catch (NftException e)
        {
            logger.LogWarning(e, "Deleting {Count} retired counting elements was refused; the next converge removes them", retired.Count);
            inSync = false;
        }
    }

    /// <summary>
    /// Reads the kernel, books its counters, applies the difference; true when the kernel differed.
    /// <paramref name="formerOwner"/> names the zone of an element the desired state no longer has.
    /// </summary>
    private async Task<bool> ConvergeLockedAsync(Func<string, string?> formerOwner, CancellationToken cancellationToken)
    {
        var target = desired!;
        inSync = false;
        if (!backend.CanReadBack)
        {
            await SendAsync(ruleset.Rebuild(target.Elements), cancellationToken);
            ledger.ForgetAll();
            inSync = true;
            CountTable();
            return false;
        }

        var kernel = KernelTable.Parse(await ReadKernelAsync(cancellationToken), ruleset);
        // Count what the kernel holds before anything is removed or rebuilt; retired elements
        // are booked now and deleted by the diff, as the desired state no longer has them.
        ledger.Book(kernel.Counters, element => target.AddressOwners.GetValueOrDefault(element) ?? formerOwner(element));
        ledger.TakeRetired();
        string batch;
        if (kernel.StructureMatches)
        {
            batch = ruleset.Diff(kernel.Elements, target.Elements);
            foreach (var (set, wanted) in target.Elements.BySet().Where(s => s.Set.Counts))
            {
                var held = kernel.Elements[set];
                foreach (var element in wanted.Where(e => !held.Contains(e)).Concat(held.Where(e => !wanted.Contains(e))))
                {
                    ledger.Forget(set, element);
                }
            }
        }
        else
        {
            if (kernel.TableMissing)
            {
                logger.LogInformation("Table inet {Table} is missing; creating it with {Zones} zones", ruleset.TableName, target.Zones.Count);
            }
            else
            {
                logger.LogWarning("Table inet {Table} is damaged ({Problem}); rebuilding it in one transaction", ruleset.TableName, kernel.StructureProblem);
            }

            // Rebuild works on a missing table too (it adds before it deletes), and replaces a damaged one without a gap.
            ledger.ForgetAll();
            batch = ruleset.Rebuild(target.Elements);
        }

        if (batch.Length > 0)
        {
            await SendAsync(batch, cancellationToken);
        }

        inSync = true;
        CountTable();
        return batch.Length > 0;
    }

    private async Task<IReadOnlyList<KernelElement>> ReadCountingSetAsync(AddressSet set, CancellationToken cancellationToken)
    {
        try
        {
            return await backend.ReadSetAsync(ruleset.TableName, set, cancellationToken);
        }
        catch (NftException) when (metrics.NftError("read"))
        {
            throw;
        }
    }

    /// <summary>The whole table as the drift check and converge need it: two cheap listings, then one dump per set.</summary>
    private async Task<KernelReading> ReadKernelAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ReadWholeTableAsync(cancellationToken);
        }
        catch (NftException) when (metrics.NftError("read"))
        {
            throw;
        }
    }

    private async Task<KernelReading> ReadWholeTableAsync(CancellationToken cancellationToken)
    {
        var structure = await backend.ListStructureAsync(cancellationToken);
        var comments = await backend.ReadRuleCommentsAsync(ruleset.TableName, ruleset.Hook, cancellationToken);
        var ports = await backend.ReadPortsAsync(ruleset.TableName, TableLayout.Ports, cancellationToken);
        var elements = new Dictionary<string, IReadOnlyList<KernelElement>>(StringComparer.Ordinal);
        foreach (var set in ruleset.Layout.Sets)
        {
            elements[set.Name] = await backend.ReadSetAsync(ruleset.TableName, set, cancellationToken);
        }

        return new KernelReading(structure, comments, ports, elements);
    }

    private async Task SendAsync(string batch, CancellationToken cancellationToken)
    {
        LastBatch = batch;
        try
        {
            await backend.ApplyAsync(batch, cancellationToken);
        }
        // The filter counts the refusal (edge_agent.nft.errors) and lets it go on.
        catch (NftException) when (metrics.NftError("apply"))
        {
            throw;
        }
    }

    /// <summary>Hands the metrics the table's zones and elements: the desired state's, which the kernel now holds. Called under the gate.</summary>
    private void CountTable()
    {
        var state = desired!;
        metrics.TableCounted(new EdgeTableCounts(
            state.Zones.Count,
            state.FailureDetails.Count,
            state.Elements.BySet().ToDictionary(s => s.Set.Name, s => s.Elements.Count, StringComparer.Ordinal)));
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
