using ControlPlane.Contracts;
using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeAgent.Tests;

/// <summary>
/// The drift-repair loop survives whatever its dataplane throws: it logs the exception object,
/// counts the failure for the status report, and tries again at the next period. Unit test with a fake clock, beside the lab tests that
/// drive the same loop against real nft.
/// </summary>
public sealed class LoopFailureTests
{
    [Fact]
    public async Task DriftRepairLoop_SurvivesAnyException_LogsIt_AndTriesAgainNextPeriod()
    {
        var time = new FakeTimeProvider();
        var dataplane = new FailingDataplane(failures: 2);
        var logs = new LogCapture();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var options = Options.Create(new NftablesOptions { DriftCheckInterval = TimeSpan.FromSeconds(30) });
        var failures = new LoopFailures();
        using var service = new DriftRepairService(dataplane, options, time, failures, loggers.CreateLogger<DriftRepairService>());
        await service.StartAsync(default);

        // ExecuteAsync runs on its own task, so its timer may not exist at the first Advance: move
        // the clock one period at a time until the check runs (an awaited condition, not a sleep).
        for (var period = 1; period <= 3; period++)
        {
            var checkedInTime = false;
            for (var attempt = 0; attempt < 50 && !checkedInTime; attempt++)
            {
                time.Advance(options.Value.DriftCheckInterval);
                checkedInTime = await dataplane.Called.WaitAsync(TimeSpan.FromMilliseconds(200));
            }

            Assert.True(checkedInTime, $"no drift check in period {period}");
        }

        await service.StopAsync(default);
        Assert.Equal(3, dataplane.Calls);
        // Counted for the status report, with the latest error named.
        Assert.Equal(2, failures.Count);
        Assert.Equal("drift repair: InvalidOperationException: an element type nobody expected", failures.Last);
        Assert.Equal(2, logs.Lines.Count(l => l.StartsWith("Error", StringComparison.Ordinal)
            && l.Contains("System.InvalidOperationException: an element type nobody expected", StringComparison.Ordinal)));
    }

    /// <summary>A dataplane whose drift check throws an unexpected exception the first times it is called.</summary>
    private sealed class FailingDataplane(int failures) : IDataplane
    {
        public SemaphoreSlim Called { get; } = new(0);

        public int Calls { get; private set; }

        public bool HasDesiredState => true;

        public IReadOnlyDictionary<string, string> Failures { get; } = new Dictionary<string, string>();

        public IReadOnlyList<ZoneFailure> FailedZones { get; } = [];

        public long DriftRepairs => 0;

        public Task<bool> RepairDriftAsync(CancellationToken cancellationToken)
        {
            Calls++;
            Called.Release();
            return Calls <= failures
                ? Task.FromException<bool>(new InvalidOperationException("an element type nobody expected"))
                : Task.FromResult(false);
        }

        public Task<DataplaneHealth> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(new DataplaneHealth(true, null));

        public Task ConvergeAsync(IEnumerable<ZoneEdgeState> zones, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ApplyAsync(IEnumerable<ZoneEdgeState> changed, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyDictionary<string, ZoneSynCounts>> ReadCountersAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, ZoneSynCounts>>(new Dictionary<string, ZoneSynCounts>());

        public Task UninstallAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async IAsyncEnumerable<RulesetGeneration> WatchForeignChangesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
    }
}
