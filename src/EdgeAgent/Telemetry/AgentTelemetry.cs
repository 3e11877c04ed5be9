using ControlPlane.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EdgeAgent.Telemetry;

/// <summary>
/// The agent's OpenTelemetry metrics, served for Prometheus at <c>http://127.0.0.1:{Agent:Metrics:Port}/metrics</c>
/// by OpenTelemetry's stand-alone HttpListener exporter (1.20.1-beta.1, the only version served).
/// The agent opens no port to the network: the listener binds a loopback address only, which a
/// Prometheus or collector on the same host scrapes.
/// </summary>
public static class AgentTelemetry
{
    public static HostApplicationBuilder AddAgentTelemetry(this HostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentMetricsOptions>()
            .Bind(builder.Configuration.GetSection(AgentMetricsOptions.Section))
            .Validate(o => o.Port is >= 0 and <= 65535, "Agent:Metrics:Port must be 0 (no metrics) to 65535.")
            .Validate(o => o.IsLoopback, "Agent:Metrics:Address must be a loopback address (127.0.0.1 or ::1): the agent serves no port to the network.")
            .ValidateOnStart();
        // The SDK's provider is built first (when there is one), so that it listens before the
        // instruments exist and sees the counters' starting zeros.
        builder.Services.AddSingleton(services =>
        {
            services.GetService<MeterProvider>();
            return ActivatorUtilities.CreateInstance<AgentMetrics>(services);
        });

        var options = builder.Configuration.GetSection(AgentMetricsOptions.Section).Get<AgentMetricsOptions>() ?? new AgentMetricsOptions();
        if (options.Port == 0 || !options.IsLoopback)
        {
            // No listener (a non-loopback address stops the host at start, with the validation message).
            return builder;
        }

        var dataCenter = builder.Configuration[$"{AgentOptions.Section}:{nameof(AgentOptions.DataCenter)}"] ?? "";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("edge-agent", serviceInstanceId: dataCenter))
            .WithMetrics(metrics => metrics
                .AddMeter(AgentMetrics.MeterName, "MassTransit")
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .OnlyThisHostsMeters()
                .AddPrometheusHttpListener(listener =>
                {
                    listener.Host = options.UriHost;
                    listener.Port = options.Port;
                }));
        return builder;
    }
}
