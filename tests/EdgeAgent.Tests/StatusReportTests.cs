using ControlPlane.Contracts;
using ControlPlane.Messaging;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace EdgeAgent.Tests;

/// <summary>The agent host, in-process, publishing through the real RabbitMQ to a consumer of the shared contract.</summary>
public sealed class StatusReportTests : IAsyncLifetime
{
    private TestVirtualHost vhost = null!;

    public async Task InitializeAsync() => vhost = await TestVirtualHost.CreateAsync();

    public async Task DisposeAsync() => await vhost.DisposeAsync();

    [Fact]
    public async Task Agent_ReportsReady_ThroughRabbitMq_UsingTheContract()
    {
        using var ns = NetworkNamespace.Create();
        var received = new TaskCompletionSource<AgentStatusReported>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.UseConnectionString(vhost.AmqpUri);
            cfg.ReceiveEndpoint("test-listener", e => e.Handler<AgentStatusReported>(context =>
            {
                if (context.Message.DataCenter == "tst")
                {
                    received.TrySetResult(context.Message);
                }

                return Task.CompletedTask;
            }));
        });
        await listener.StartAsync();

        using var agent = BuildAgent(ns.Name);
        try
        {
            await agent.StartAsync();
            var report = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.True(report.Ready, report.Reason);
            Assert.Equal(StatusReporterVersion(), report.AgentVersion);
            Assert.InRange(report.ReportedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        }
        finally
        {
            await agent.StopAsync();
            await listener.StopAsync();
        }
    }

    private static string StatusReporterVersion() => Reporting.StatusReporter.AgentVersion;

    private IHost BuildAgent(string networkNamespace)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:DataCenter"] = "tst",
            ["Agent:Namespace"] = networkNamespace,
            ["Agent:HeartbeatInterval"] = "00:00:01",
            ["ConnectionStrings:RabbitMq"] = vhost.AmqpUri,
        });
        builder.AddEdgeAgent();
        return builder.Build();
    }
}
