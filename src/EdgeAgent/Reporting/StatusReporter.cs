using System.Reflection;
using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
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
    IOptions<AgentOptions> options,
    TimeProvider time,
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
            var health = await dataplane.CheckAsync(stoppingToken);
            if (!health.Ready && health.Reason != lastReason)
            {
                logger.LogError("EdgeAgent not ready: dc={DataCenter} reason={Reason}", agent.DataCenter, health.Reason);
            }

            lastReason = health.Reason;
            var report = new AgentStatusReported(agent.DataCenter, AgentVersion, health.Ready, health.Reason, time.GetUtcNow());
            TimeSpan delay;
            try
            {
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
                logger.LogWarning("Could not report to the control plane, retrying: {Error}", e.Message);
                delay = RetryDelay;
            }

            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
