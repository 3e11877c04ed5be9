using System.Text.RegularExpressions;
using ControlPlane.Messaging;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
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
            .Validate(o => o.Backend is "nft" or "recording", "Agent:Backend must be 'nft' or 'recording'.")
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero, "Agent:HeartbeatInterval must be positive.")
            .ValidateOnStart();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<NftablesOptions>()
            .Bind(builder.Configuration.GetSection(NftablesOptions.Section))
            .Validate(o => o.Hook is "input" or "forward", "Agent:Nftables:Hook must be 'input' or 'forward'.")
            .Validate(o => o.DriftCheckInterval > TimeSpan.Zero, "Agent:Nftables:DriftCheckInterval must be positive.")
            .Validate(o => o.Table.Length is > 0 and <= 64 && o.Table.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'), "Agent:Nftables:Table must be a plain nftables name.")
            .ValidateOnStart();
        builder.Services.AddSingleton<INftBackend>(services =>
            services.GetRequiredService<IOptions<AgentOptions>>().Value.Backend == "recording"
                ? ActivatorUtilities.CreateInstance<RecordingBackend>(services)
                : ActivatorUtilities.CreateInstance<NftBackend>(services));
        builder.Services.AddSingleton<IDataplane, EdgeDataplane>();
        builder.Services.AddHostedService<DriftRepairService>();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            // Edge networks run closed; the library must not phone home.
            bus.DisableUsageTelemetry();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.UseConnectionString(context.GetRequiredService<IConfiguration>().GetConnectionString("RabbitMq"));
                rabbit.ConfigureEndpoints(context);
            });
        });

        builder.Services.AddHostedService<StatusReporter>();
        return builder;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,15}$")]
    private static partial Regex DataCenterCode();
}
