using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using EdgeAgent.Sync;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeAgent.Tests;

/// <summary>
/// Every background loop of the agent survives whatever its dataplane throws (one failure policy):
/// it logs the exception object, counts the failure for the status report, and runs again at its
/// next period or retry. Unit tests with a fake dataplane and a fake clock, beside the lab tests
/// that drive the same loops against real nft. The reporters publish through a real MassTransit
/// bus on the in-memory transport.
/// </summary>
public sealed class LoopFailureTests : IDisposable
{
    private const string Unexpected = "an element type nobody expected";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider time = new();
    private readonly FakeDataplane dataplane = new();
    private readonly LoopFailures failures = new(TestMetrics.Agent());
    private readonly LogCapture logs = new();
    private readonly ILoggerFactory loggers;

    public LoopFailureTests() => loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));

    public void Dispose()
    {
        loggers.Dispose();
        logs.Dispose();
    }

    [Fact]
    public async Task DriftRepairLoop_SurvivesAnyException_LogsIt_AndTriesAgainNextPeriod()
    {
        var options = Options.Create(new NftablesOptions { DriftCheckInterval = TimeSpan.FromSeconds(30) });
        using var service = new DriftRepairService(dataplane, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<DriftRepairService>());
        FailNext(nameof(IDataplane.RepairDriftAsync), times: 2);
        await service.StartAsync(CancellationToken.None);

        for (var period = 1; period <= 3; period++)
        {
            var call = await dataplane.AdvanceUntilNextCallAsync(time, options.Value.DriftCheckInterval);
            Assert.Equal(nameof(IDataplane.RepairDriftAsync), call.Method);
        }

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(2, failures.Count);
        Assert.Equal($"drift repair: InvalidOperationException: {Unexpected}", failures.Last);
        AssertLogged("Error", times: 2);
    }

    [Fact]
    public async Task DriftMonitor_SurvivesAnyException_RestartsWithBackoff_AndAForeignWriteStartsACheck()
    {
        // A period far beyond the test: only the monitor's signal can start a check.
        var options = Options.Create(new NftablesOptions { DriftCheckInterval = TimeSpan.FromHours(1) });
        using var service = new DriftRepairService(dataplane, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<DriftRepairService>());
        FailNext(nameof(IDataplane.WatchForeignChangesAsync), times: 2);
        await service.StartAsync(CancellationToken.None);

        // Restarted after 1 s, then after 2 s: move the clock until each restart happened.
        for (var start = 1; start <= 3; start++)
        {
            var started = false;
            for (var attempt = 0; attempt < 50 && !started; attempt++)
            {
                started = await dataplane.WatchStarted.WaitAsync(TimeSpan.FromMilliseconds(200));
                if (!started)
                {
                    time.Advance(TimeSpan.FromSeconds(1));
                }
            }

            Assert.True(started, $"the monitor did not start a {start}. time");
        }

        await dataplane.ForeignWrites.Writer.WriteAsync(new RulesetGeneration(42, 4242, "nft"));
        var call = await dataplane.AdvanceUntilNextCallAsync(time, DriftRepairService.Settle);
        Assert.Equal(nameof(IDataplane.RepairDriftAsync), call.Method);

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(2, failures.Count);
        Assert.Equal($"drift monitor: InvalidOperationException: {Unexpected}", failures.Last);
        AssertLogged("Error", times: 2);
    }

    [Fact]
    public async Task SyncLoop_SurvivesAnyException_LogsIt_AndTriesAgainAfterItsRetryDelay()
    {
        var snapshots = new FakeSnapshotSource(new Snapshot(10, [Zones.Zone(1, closed: true, revision: 10)]));
        using var progress = new AgentProgress();
        var options = Options.Create(new AgentOptions { DataCenter = "tst" });
        var feed = new ChangeFeed();
        feed.MarkQueueBound();
        using var sync = new EdgeSync(dataplane, snapshots, feed, progress, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<EdgeSync>());
        FailNext(nameof(IDataplane.ConvergeAsync), times: 2);
        await sync.StartAsync(CancellationToken.None);

        Assert.Equal(nameof(IDataplane.ConvergeAsync), (await dataplane.NextCallAsync()).Method);
        for (var retry = 1; retry <= 2; retry++)
        {
            var call = await dataplane.AdvanceUntilNextCallAsync(time, TimeSpan.FromSeconds(2));
            Assert.Equal(nameof(IDataplane.ConvergeAsync), call.Method);
        }

        await sync.StopAsync(CancellationToken.None);
        Assert.Equal(3, snapshots.Calls);
        Assert.Equal(10, progress.Watermark);
        Assert.Equal(2, failures.Count);
        Assert.Equal($"sync: InvalidOperationException: {Unexpected}", failures.Last);
        AssertLogged("Warning", times: 2);
    }

    [Fact]
    public async Task StatusReportLoop_SurvivesAnyException_LogsIt_AndReportsTheFailureNextRound()
    {
        var published = Channel.CreateUnbounded<AgentStatusReported>();
        var bus = await StartBusAsync(published);
        using var progress = new AgentProgress();
        var options = Options.Create(new AgentOptions { DataCenter = "tst", HeartbeatInterval = TimeSpan.FromSeconds(10) });
        using var reporter = new StatusReporter(bus, dataplane, progress, options, time, failures, loggers.CreateLogger<StatusReporter>());
        FailNext(nameof(IDataplane.CheckAsync), times: 1);
        try
        {
            await reporter.StartAsync(CancellationToken.None);

            Assert.Equal(nameof(IDataplane.CheckAsync), (await dataplane.NextCallAsync()).Method);
            var retry = await dataplane.AdvanceUntilNextCallAsync(time, options.Value.HeartbeatInterval);
            Assert.Equal(nameof(IDataplane.CheckAsync), retry.Method);

            var report = await published.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.True(report.Ready, report.Reason);
            Assert.Equal(1, report.LoopFailures);
            Assert.Equal($"status report: InvalidOperationException: {Unexpected}", report.LastLoopError);
            AssertLogged("Warning", times: 1);
        }
        finally
        {
            await reporter.StopAsync(CancellationToken.None);
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task TrafficReportLoop_SurvivesAnyException_LogsIt_AndReportsNextPeriod()
    {
        var published = Channel.CreateUnbounded<PlaintextTrafficCounted>();
        var bus = await StartBusAsync(published);
        var options = Options.Create(new AgentOptions { DataCenter = "tst", AnalyticsInterval = TimeSpan.FromSeconds(60) });
        using var reporter = new TrafficReporter(bus, dataplane, options, time, failures, TestMetrics.Agent(), loggers.CreateLogger<TrafficReporter>());
        dataplane.Counters = new Dictionary<string, ZoneSynCounts> { [Zones.ZoneId(1)] = new(V4: 3, V6: 1, BlockedV4: 2) };
        FailNext(nameof(IDataplane.ReadCountersAsync), times: 1);
        try
        {
            await reporter.StartAsync(CancellationToken.None);

            for (var period = 1; period <= 2; period++)
            {
                var call = await dataplane.AdvanceUntilNextCallAsync(time, options.Value.AnalyticsInterval);
                Assert.Equal(nameof(IDataplane.ReadCountersAsync), call.Method);
            }

            var counted = await published.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.Equal([new ZoneTraffic(Zones.ZoneId(1), 3, 1, 2, 0)], counted.Zones);
            Assert.Equal(1, failures.Count);
            Assert.Equal($"traffic report: InvalidOperationException: {Unexpected}", failures.Last);
            AssertLogged("Warning", times: 1);
        }
        finally
        {
            await reporter.StopAsync(CancellationToken.None);
            await bus.StopAsync();
        }
    }

    /// <summary>A real bus on the in-memory transport that hands every published <typeparamref name="T"/> to <paramref name="published"/>.</summary>
    private static async Task<IBusControl> StartBusAsync<T>(Channel<T> published)
        where T : class
    {
        var bus = Bus.Factory.CreateUsingInMemory(bus => bus.ReceiveEndpoint("published", endpoint =>
            endpoint.Handler<T>(context => published.Writer.WriteAsync(context.Message).AsTask())));
        await bus.StartAsync();
        return bus;
    }

    private void FailNext(string method, int times)
    {
        for (var i = 0; i < times; i++)
        {
            dataplane.FailNext(method, new InvalidOperationException(Unexpected));
        }
    }

    /// <summary>The exception was logged as an object (its type and message), not only its message.</summary>
    private void AssertLogged(string level, int times) =>
        Assert.Equal(times, logs.Lines.Count(l => l.StartsWith(level, StringComparison.Ordinal)
            && l.Contains($"System.InvalidOperationException: {Unexpected}", StringComparison.Ordinal)));
}
