using ControlPlane.Api.Features.Analytics;
using MassTransit;

namespace ControlPlane.Api.Features.Agents;

/// <summary>
/// Retry of the API's consumers: a report that fails (the database briefly away, a lock
/// timeout) is retried in memory, 5 times from 200 ms up to 5 s apart, before MassTransit moves
/// it to the endpoint's error queue. Both consumers are idempotent (status by
/// <c>reported_at</c>, traffic by report id), so a retry after a partial failure is harmless.
/// </summary>
public static class ConsumerRetry
{
    public static void Configure(IReceiveEndpointConfigurator endpoint) =>
        endpoint.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(400)));
}

public sealed class AgentStatusReportedConsumerDefinition : ConsumerDefinition<AgentStatusReportedConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<AgentStatusReportedConsumer> consumerConfigurator, IRegistrationContext context) =>
        ConsumerRetry.Configure(endpointConfigurator);
}

public sealed class PlaintextTrafficCountedConsumerDefinition : ConsumerDefinition<PlaintextTrafficCountedConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<PlaintextTrafficCountedConsumer> consumerConfigurator, IRegistrationContext context) =>
        ConsumerRetry.Configure(endpointConfigurator);
}
