using ControlPlane.Api.Data;
using MassTransit;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Every message a consumer handles is system work (status reports and traffic counts of
/// every account): this scoped consume filter says so before the consumer runs, so
/// consumers cannot forget it.
/// </summary>
public sealed class SystemTenantFilter<T>(RequestTenant tenant) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        tenant.SetSystem();
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("system-tenant");
}
