using System.Text.RegularExpressions;
using ControlPlane.Messaging;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using EdgeAgent.Sync;
using EdgeAgent.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeAgent;

/// <summary>Wires the agent's services; used by Program and by tests that host the agent in-process.</summary>
public static partial class AgentSetup
{
    public static HostApplicationBuilder AddEdgeAgent(this HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>()
            .Bind(builder.Configuration.GetSection(AgentOptions.Section))
            .Validate(o => DataCenterCode().IsMatch(o.DataCenter), "Agent:DataCenter must be a code such as 'ams' (lowercase letters, digits, '-').")
            .Validate(o => o.Backend is "nft" or "libnftables" or "recording", "Agent:Backend must be 'nft', 'libnftables' or 'recording'.")
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero, "Agent:HeartbeatInterval must be positive.")
            .Validate(o => o.AnalyticsInterval > TimeSpan.Zero, "Agent:AnalyticsInterval must be positive.")
            .ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<NftablesOptions>()
            .Bind(builder.Configuration.GetSection(NftablesOptions.Section))
            .Validate(o => o.Hook is "input" or "forward", "Agent:Nftables:Hook must be 'input' or 'forward'.")
            .Validate(o => o.DriftCheckInterval > TimeSpan.Zero, "Agent:Nftables:DriftCheckInterval must be positive.")
            .Validate(o => o.Table.Length is > 0 and <= 64 && o.Table.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'), "Agent:Nftables:Table must be a plain nftables name.")
            .ValidateOnStart();
        builder.Services.AddSingleton<INftBackend>(services =>
            services.GetRequiredService<IOptions<AgentOptions>>().Value.Backend switch
            {
                "recording" => ActivatorUtilities.CreateInstance<RecordingBackend>(services),
                "libnftables" => ActivatorUtilities.CreateInstance<LibNftablesBackend>(services),
                _ => ActivatorUtilities.CreateInstance<NftBackend>(services),
            });
        builder.Services.AddSingleton<IDataplane, EdgeDataplane>();
        builder.AddAgentTelemetry();
        builder.Services.AddHostedService<DriftRepairService>();

        builder.Services.AddSingleton<AgentProgress>();
        builder.Services.AddSingleton<EdgeAgent.Reporting.LoopFailures>();
        var agent = builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();
        var sync = agent.ControlPlaneUrl.Length > 0;
        if (sync)
        {
            builder.Services.AddSingleton<ISnapshotSource, EdgeApiClient>();
            builder.Services.AddSingleton<ChangeFeed>();
            builder.Services.AddHostedService<EdgeSync>();
        }

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            // Edge networks run closed; the library must not phone home.
            bus.DisableUsageTelemetry();
            if (sync)
            {
                bus.AddConsumer<EdgeChangeRecordedConsumer>();
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseConnectionString(context.GetRequiredService<IConfiguration>().GetConnectionString("RabbitMq"));
                if (sync)
                {
                    // The DC's own durable queue: it keeps collecting changes while the agent is
                    // away. Quorum, so it survives a broker restart and can be replicated; one
                    // message at a time keeps revisions in order; a prefetch of 64 lets a burst
                    // arrive together and be coalesced into one nft transaction.
                    rabbit.ReceiveEndpoint($"edge-{agent.DataCenter}", endpoint =>
                    {
                        endpoint.SetQuorumQueue();
                        endpoint.PrefetchCount = 64;
                        endpoint.ConcurrentMessageLimit = 1;
                        endpoint.ConfigureConsumer<EdgeChangeRecordedConsumer>(context);
                        endpoint.ConnectReceiveEndpointObserver(new ChangeQueueObserver(context.GetRequiredService<ChangeFeed>()));
                    });
                }
            });
        });

        builder.Services.AddHostedService<StatusReporter>();
        builder.Services.AddHostedService<TrafficReporter>();
        return builder;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,15}$")]
    private static partial Regex DataCenterCode();
}
