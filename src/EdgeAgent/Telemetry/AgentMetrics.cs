using System.Diagnostics.Metrics;

namespace EdgeAgent.Telemetry;

/// <summary>
/// What the agent's table holds as of its last converge or change: zones of the desired state applied
/// and failed, and elements per set (by set name).
/// </summary>
public sealed record EdgeTableCounts(int ZonesApplied, int ZonesFailed, IReadOnlyDictionary<string, int> SetElements);

/// <summary>
/// The agent's instruments (meter <c>EdgeAgent</c>), named after the OpenTelemetry semantic
/// conventions: dotted names, durations in seconds. Prometheus sees
/// <c>edge_agent.apply.duration</c> (unit <c>s</c>) as <c>edge_agent_apply_duration_seconds</c>.
/// The catalogue with every label is in docs/operations.md. Created through
/// <see cref="IMeterFactory"/>, so agents hosted side by side in one test process keep
/// separate measurements.
/// </summary>
public sealed class AgentMetrics
{
    public const string MeterName = "EdgeAgent";

    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    private static readonly InstrumentAdvice<int> Revisions = new()
    {
        HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    };

    private readonly Histogram<double> applyDuration;
    private readonly Histogram<int> applyBatchSize;
    private readonly Counter<long> changesApplied;
    private readonly Counter<long> resyncs;
    private readonly Counter<long> driftRepairs;
    private readonly Counter<long> nftErrors;
    private readonly Histogram<double> counterReadDuration;
    private readonly Histogram<double> driftCheckDuration;
    private readonly Counter<long> loopFailures;
    private EdgeTableCounts? tableCounts;

    public AgentMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        applyDuration = Meter.CreateHistogram("edge_agent.apply.duration", "s",
            "Time to apply one batch of revisions to the kernel (one nftables transaction, or a full converge when the change fell back to one).", advice: Seconds);
        applyBatchSize = Meter.CreateHistogram("edge_agent.apply.batch.size", "{revision}",
            "Revisions applied together in one batch.", advice: Revisions);
        changesApplied = Meter.CreateCounter<long>("edge_agent.changes.applied", "{revision}",
            "Revisions applied in order from the change feed (not counting snapshots).");
        resyncs = Meter.CreateCounter<long>("edge_agent.resyncs", "{resync}",
            "Snapshot resyncs, by reason: start_up, queue_bound, apply_failed, gap_timeout.");
        driftRepairs = Meter.CreateCounter<long>("edge_agent.drift.repairs", "{repair}",
            "Drift checks that found the table different from the desired state and repaired it.");
        nftErrors = Meter.CreateCounter<long>("edge_agent.nft.errors", "{error}",
            "Kernel refusals (NftException), by operation: apply or read.");
        counterReadDuration = Meter.CreateHistogram("edge_agent.counter_read.duration", "s",
            "Time to read the SYN counters of the counting sets and book them per zone.", advice: Seconds);
        driftCheckDuration = Meter.CreateHistogram("edge_agent.drift_check.duration", "s",
            "Time of one drift check: read the whole table, diff it with the desired state, repair.", advice: Seconds);
        loopFailures = Meter.CreateCounter<long>("edge_agent.loop.failures", "{failure}",
            "Failures of the agent's background loops, by loop: sync, drift_repair, drift_monitor, status_report, traffic_report.");
        ObserveTable();

        // Every counter series starts at 0, so a scrape lists it before its first event and
        // increase() in an alert sees the first one (a series that appears at 1 shows no increase).
        driftRepairs.Add(0);
        changesApplied.Add(0);
        foreach (var operation in NftOperations)
        {
            nftErrors.Add(0, new KeyValuePair<string, object?>("operation", operation));
        }

        foreach (var reason in ResyncReasons)
        {
            resyncs.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        foreach (var loop in Loops)
        {
            loopFailures.Add(0, new KeyValuePair<string, object?>("loop", loop));
        }
    }

    private static readonly string[] NftOperations = ["apply", "read"];
    private static readonly string[] ResyncReasons = ["start_up", "queue_bound", "apply_failed", "gap_timeout"];
    private static readonly string[] Loops = ["sync", "drift_repair", "drift_monitor", "status_report", "traffic_report"];

    /// <summary>The meter itself, for the observable gauges that read the dataplane.</summary>
    public Meter Meter { get; }

    /// <summary>A batch of <paramref name="revisions"/> revisions applied in <paramref name="seconds"/>.</summary>
    public void Applied(int revisions, double seconds)
    {
        applyDuration.Record(seconds);
        applyBatchSize.Record(revisions);
        changesApplied.Add(revisions);
    }

    /// <summary>A snapshot resync began; <paramref name="reason"/> is <c>start_up</c>, <c>queue_bound</c>, <c>apply_failed</c> or <c>gap_timeout</c>.</summary>
    public void Resync(string reason) => resyncs.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One drift check of <paramref name="seconds"/>; <paramref name="repaired"/> when it changed the table.</summary>
    public void DriftChecked(double seconds, bool repaired)
    {
        driftCheckDuration.Record(seconds);
        if (repaired)
        {
            driftRepairs.Add(1);
        }
    }

    public void CountersRead(double seconds) => counterReadDuration.Record(seconds);

    /// <summary>
    /// Counts a kernel refusal of <paramref name="operation"/> (<c>apply</c> or <c>read</c>). Returns
    /// false, so it can sit in an exception filter and let the exception go on.
    /// </summary>
    public bool NftError(string operation)
    {
        nftErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));
        return false;
    }

    /// <summary>A loop failure; the loop's name is written with underscores (<c>drift repair</c> → <c>drift_repair</c>).</summary>
    public void LoopFailed(string loop) => loopFailures.Add(1, new KeyValuePair<string, object?>("loop", loop.Replace(' ', '_')));

    /// <summary>The table's zones and elements after the last converge or change that succeeded; null before the first.</summary>
    public EdgeTableCounts? TableCounts => Volatile.Read(ref tableCounts);

    /// <summary>The dataplane reports what its table holds after each converge or change that succeeded.</summary>
    public void TableCounted(EdgeTableCounts counts) => Volatile.Write(ref tableCounts, counts);

    private void ObserveTable()
    {
        Meter.CreateObservableGauge<int>("edge_agent.zones", () => TableCounts is { } counts
            ? [new Measurement<int>(counts.ZonesApplied, new KeyValuePair<string, object?>("state", "applied")),
               new Measurement<int>(counts.ZonesFailed, new KeyValuePair<string, object?>("state", "failed"))]
            : [],
            "{zone}", "Zones in the desired state that are applied, and those the agent could not apply.");
        Meter.CreateObservableGauge<int>("edge_agent.nftables.set.elements", () => TableCounts is { } counts
            ? counts.SetElements.Select(s => new Measurement<int>(s.Value, new KeyValuePair<string, object?>("nftables.set", s.Key)))
            : [],
            "{element}", "Elements in each set of the agent's kernel table, as of its last converge or change (counting elements waiting for their last read excepted).");
    }
}
