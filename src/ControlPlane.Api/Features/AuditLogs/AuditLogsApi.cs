using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Tokens;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.AuditLogs;

/// <summary><c>GET /accounts/{id}/audit_logs</c>: every write of the account, newest first by default.</summary>
public static class AuditLogsApi
{
    public sealed record ActionView(string Type, bool Result);

    public sealed record ActorView(string? Id, string? Email, string? Ip, string Type);

    public sealed record OwnerView(string? Id);

    public sealed record ResourceView(string? Id, string Type);

    /// <summary>Cloudflare's audit item; note the two camelCase fields it has always had.</summary>
    public sealed record AuditLogView(
        string Id,
        ActionView Action,
        ActorView Actor,
        string Interface,
        JsonElement? Metadata,
        [property: JsonPropertyName("newValue")] JsonElement? NewValue,
        [property: JsonPropertyName("oldValue")] JsonElement? OldValue,
        OwnerView Owner,
        ResourceView Resource,
        DateTime When,
        string? ZoneName);

    public sealed record AuditQuery(
        [FromRoute(Name = "account_id")] string AccountId,
        [FromQuery(Name = "page")] int? Page,
        [FromQuery(Name = "per_page")] int? PerPage,
        [FromQuery(Name = "since")] DateTime? Since,
        [FromQuery(Name = "before")] DateTime? Before,
        [FromQuery(Name = "action.type")] string? ActionType,
        [FromQuery(Name = "actor.ip")] string? ActorIp,
        [FromQuery(Name = "zone.name")] string? ZoneName,
        [FromQuery(Name = "direction")] string? Direction);

    public static RouteGroupBuilder MapAuditLogsApi(this RouteGroupBuilder client)
    {
        client.MapGet("/accounts/{account_id}/audit_logs", ListAuditLogs).WithTags("Audit logs").WithName("ListAuditLogs");
        return client;
    }

    public static async Task<Results<Ok<PagedEnvelope<AuditLogView>>, JsonHttpResult<ApiEnvelope<object>>>> ListAuditLogs(
        [AsParameters] AuditQuery query, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (TokensApi.AccountError(query.AccountId, caller, Permissions.AuditRead) is { } error)
        {
            return error;
        }

        if (Page.From(query.Page, query.PerPage, out var pageError) is not { } page)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, pageError!);
        }

        var entries = db.AuditLogs.AsNoTracking();
        if (query.Since is { } since)
        {
            var from = since.ToUniversalTime();
            entries = entries.Where(a => a.When >= from);
        }

        if (query.Before is { } before)
        {
            var until = before.ToUniversalTime();
            entries = entries.Where(a => a.When < until);
        }

        if (query.ActionType is { Length: > 0 } action)
        {
            entries = entries.Where(a => a.ActionType == action);
        }

        if (query.ActorIp is { Length: > 0 } ip)
        {
            entries = entries.Where(a => a.ActorIp == ip);
        }

        if (query.ZoneName is { Length: > 0 } zoneName)
        {
            var canonical = ZoneNames.TryCanonicalize(zoneName, out var name, out _) ? name : zoneName;
            entries = entries.Where(a => a.ZoneName == canonical);
        }

        entries = query.Direction == "asc" ? entries.OrderBy(a => a.When).ThenBy(a => a.Id) : entries.OrderByDescending(a => a.When).ThenBy(a => a.Id);
        var total = await entries.CountAsync(cancellationToken);
        var items = await entries.Skip(page.Skip).Take(page.Size).ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Envelope(items.Select(View).ToList(), total));
    }

    private static AuditLogView View(AuditLogEntry entry) => new(
        entry.Id,
        new ActionView(entry.ActionType, entry.ActionResult),
        new ActorView(entry.ActorId, null, entry.ActorIp, entry.ActorType),
        "API",
        entry.Metadata?.RootElement,
        entry.NewValue?.RootElement,
        entry.OldValue?.RootElement,
        new OwnerView(entry.AccountId),
        new ResourceView(entry.ResourceId, entry.ResourceType),
        entry.When,
        entry.ZoneName);
}
