using System.Text.Json;
using ControlPlane.Api.Data;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Adds an audit entry to the same unit of work as the write it records, so there is
/// never a write without its entry or an entry without its write. Values are the
/// public JSON views of the objects: secrets are never in them.
/// </summary>
public sealed class Audit(ControlPlaneDbContext db, Caller caller, TimeProvider time, IHttpContextAccessor http, IOptions<JsonOptions> httpJson)
{
    /// <summary>The <c>interface</c> of a write made from a dashboard page.</summary>
    public const string UserInterface = "UI";

    /// <summary>The <c>interface</c> of every other write: the REST API (and the work a request to it triggers).</summary>
    public const string ApiInterface = "API";

    private JsonSerializerOptions Json => httpJson.Value.SerializerOptions;

    /// <summary>
    /// Cloudflare's <c>interface</c> of an audit entry: <c>UI</c> when the request is to a page under
    /// <c>/dashboard</c> (the dashboard's form posts go to their page's own address), <c>API</c>
    /// otherwise. Read from the request, so no handler has to pass it and none can forget it.
    /// </summary>
    public static string InterfaceOf(HttpContext? context) =>
        context?.Request.Path.StartsWithSegments(Features.Dashboard.DashboardSetup.BasePath) == true ? UserInterface : ApiInterface;

    public void Record(string action, string resourceType, string? resourceId, string? accountId, object? oldValue, object? newValue, string? zoneName = null, object? metadata = null)
    {
        db.AuditLogs.Add(new AuditLogEntry
        {
            Id = Ids.New(),
            AccountId = accountId,
            ActionType = action,
            ActorType = caller.IsOperator ? "operator" : caller.Token is not null ? "token" : "system",
            ActorId = caller.IsOperator ? "operator" : caller.Token?.Id,
            TokenId = caller.Token?.Id,
            ActorIp = ClientAddress.Of(http.HttpContext),
            ResourceType = resourceType,
            ResourceId = resourceId,
            ZoneName = zoneName,
            Interface = InterfaceOf(http.HttpContext),
            OldValue = oldValue is null ? null : JsonSerializer.SerializeToDocument(oldValue, Json),
            NewValue = newValue is null ? null : JsonSerializer.SerializeToDocument(newValue, Json),
            Metadata = metadata is null ? null : JsonSerializer.SerializeToDocument(metadata, Json),
            When = time.GetUtcNow().UtcDateTime,
        });
    }
}
