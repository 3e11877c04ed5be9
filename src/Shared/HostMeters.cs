using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace ControlPlane.Telemetry;

/// <summary>
/// OpenTelemetry picks meters by name across the whole process, so two hosts in one process (an
/// API and its test replica, agents hosted side by side) would each export the other's series.
/// This view keeps a meter made by an <see cref="IMeterFactory"/> only when it is this host's
/// factory; process-wide meters (no factory: the runtime's, Npgsql's, MassTransit's) pass. With
/// one host per process, as deployed, nothing is dropped. Compiled into both the API and the
/// agent (a linked source file).
/// </summary>
internal static class HostMeters
{
    /// <exception cref="InvalidOperationException">The builder is not one of a host (its services are not known yet).</exception>
    public static MeterProviderBuilder OnlyThisHostsMeters(this MeterProviderBuilder metrics) =>
        metrics is IDeferredMeterProviderBuilder deferred
            ? deferred.Configure((services, builder) =>
            {
                var own = services.GetRequiredService<IMeterFactory>();
                builder.AddView(instrument => instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, own)
                    ? MetricStreamConfiguration.Drop
                    : null);
            })
            : throw new InvalidOperationException("OnlyThisHostsMeters needs the meter provider builder of a host (AddOpenTelemetry().WithMetrics).");
}
