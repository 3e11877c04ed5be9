using System.Reflection;
using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using EdgeAgent.Sync;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Reporting;

/// <summary>
/// Tells the control plane this agent is alive and whether it can program its kernel:
/// once at start, then every heartbeat. While the broker is unreachable it keeps
/// trying every few seconds; nothing here ever crashes the process.
/// </summary>
public sealed class StatusReporter(
    IBus bus,
    IDataplane dataplane,
    AgentProgress progress,
    IOptions<AgentOptions> options,
    TimeProvider time,
    LoopFailures failures,
    ILogger<StatusReporter> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public static string AgentVersion { get; } =
        typeof(StatusReporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var agent = options.Value;
        var announcedReady = false;
        string? lastReason = null;

        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            // The whole round, the dataplane check included: an exception outside the catch
            // would end the loop, and the control plane would see this DC go stale for good.
            try
            {
                var health = await dataplane.CheckAsync(stoppingToken);
                if (!health.Ready && health.Reason != lastReason)
                {
                    logger.LogError("EdgeAgent not ready: dc={DataCenter} reason={Reason}", agent.DataCenter, health.Reason);
                }

                lastReason = health.Reason;
                if (health.Ready && progress.SyncProblem is { } problem)
                {
                    health = new DataplaneHealth(false, problem);
                }

                var report = new AgentStatusReported(agent.DataCenter, AgentVersion, health.Ready, health.Reason, time.GetUtcNow())
                {
                    Watermark = progress.Watermark,
                    FailedZones = dataplane.FailedZones,
                    DriftRepairs = dataplane.DriftRepairs,
                    LoopFailures = failures.Count,
                    LastLoopError = failures.Last,
                };

                using var publishTimeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                publishTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                await bus.Publish(report, publishTimeout.Token);
                if (health.Ready && !announcedReady)
                {
                    logger.LogInformation("EdgeAgent ready: dc={DataCenter} namespace={Namespace} backend={Backend} version={Version}",
                        agent.DataCenter, string.IsNullOrEmpty(agent.Namespace) ? "(own)" : agent.Namespace, agent.Backend, AgentVersion);
                }

                announcedReady = health.Ready;
                delay = agent.HeartbeatInterval;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures.Record("status report", e);
                logger.LogWarning(e, "Could not report to the control plane, retrying in {Delay}", RetryDelay);
                delay = RetryDelay;
            }

            try
            {
                // A heartbeat, or sooner when the sync loop has applied something.
                await progress.WaitForReportRequestAsync(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
