using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Agents;

/// <summary>Operator view of the edge agents that have reported in.</summary>
public static class AgentsApi
{
    public sealed record AgentView(string DataCenter, string AgentVersion, bool Ready, string? Reason, DateTimeOffset ReportedAt, DateTimeOffset LastSeenOn);

    public static RouteGroupBuilder MapAgentsApi(this RouteGroupBuilder operatorApi)
    {
        operatorApi.MapGet("/agents", ListAgents).WithTags("Operator").WithName("ListAgents");
        return operatorApi;
    }

    public static async Task<Ok<ApiEnvelope<List<AgentView>>>> ListAgents(ControlPlaneDbContext db, CancellationToken cancellationToken)
    {
        var agents = await db.EdgeAgentStatuses
            .AsNoTracking()
            .OrderBy(a => a.DataCenter)
            .Select(a => new AgentView(a.DataCenter, a.AgentVersion, a.Ready, a.Reason, a.ReportedAt, a.ReceivedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(ApiEnvelope.Ok(agents));
    }
}
