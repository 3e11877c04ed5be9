using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Agents;

/// <summary>Operator view of the edge agents that have reported in.</summary>
public static class AgentsApi
{
    public sealed record AgentView(string DataCenter, string AgentVersion, bool Ready, string? Reason, DateTimeOffset ReportedAt, DateTimeOffset LastSeenOn);

    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/operator/v1/agents")
            .WithTags("Operator: agents")
            .RequireAuthorization(OperatorAuthenticationHandler.SchemeName);

        group.MapGet("/", ListAgents).WithName("ListAgents");
        return app;
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
