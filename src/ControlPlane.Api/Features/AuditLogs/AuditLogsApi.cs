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

    /// <summary>
    /// Cloudflare's audit item. Note the camelCase fields it has always had: <c>newValue</c> and
    /// <c>oldValue</c> are strings in every Cloudflare client's types (here the value as compact
    /// JSON text), and the structured value is in <c>newValueJson</c> and <c>oldValueJson</c>.
    /// </summary>
    public sealed record AuditLogView(
        string Id,
        ActionView Action,
        ActorView Actor,
        string Interface,
        JsonElement? Metadata,
        [property: JsonPropertyName("newValue")] string? NewValue,
        [property: JsonPropertyName("newValueJson")] JsonElement? NewValueJson,
        [property: JsonPropertyName("oldValue")] string? OldValue,
        [property: JsonPropertyName("oldValueJson")] JsonElement? OldValueJson,
        OwnerView Owner,
        ResourceView Resource,
        DateTime When,
        string? ZoneName);

    /// <summary>The query of the list, named as Cloudflare names it, plus <c>action.result</c>.</summary>
    /// <param name="AccountId">The account whose entries are listed (the token's own).</param>
    /// <param name="Page">The page, from 1.</param>
    /// <param name="PerPage">Entries per page: 1 to 1000 (more is clamped to 1000), 100 by default.</param>
    /// <param name="Id">One entry's id.</param>
    /// <param name="Since">Entries at or after this time (RFC 3339).</param>
    /// <param name="Before">Entries before this time (RFC 3339).</param>
    /// <param name="ActionType">The action, such as <c>zone.create</c> or <c>token.revoke</c>.</param>
    /// <param name="ActorIp">The client's address: an IPv4 or IPv6 address, or a CIDR prefix.</param>
    /// <param name="ActorEmail">The actor's email; API tokens and the operator act without one, so it matches nothing here.</param>
    /// <param name="ZoneName">The zone the write concerned (Unicode or punycode).</param>
    /// <param name="Direction"><c>desc</c> (newest first, the default) or <c>asc</c>.</param>
    /// <param name="ActionResult">Succeeded (<c>true</c>) or failed and denied (<c>false</c>) writes; see <see cref="ActionResultDescription"/>.</param>
    public sealed record AuditQuery(
        [FromRoute(Name = "account_id")] string AccountId,
        [FromQuery(Name = "page")] int? Page,
        [FromQuery(Name = "per_page")] int? PerPage,
        [FromQuery(Name = "id")] string? Id,
        [FromQuery(Name = "since")] DateTime? Since,
        [FromQuery(Name = "before")] DateTime? Before,
        [FromQuery(Name = "action.type")] string? ActionType,
        [FromQuery(Name = "actor.ip")] string? ActorIp,
        [FromQuery(Name = "actor.email")] string? ActorEmail,
        [FromQuery(Name = "zone.name")] string? ZoneName,
        [FromQuery(Name = "direction")] string? Direction,
        [FromQuery(Name = "action.result")] bool? ActionResult);

    private const string ActionResultDescription =
        "Ours, not Cloudflare's: true lists the writes that succeeded, false the failed and denied ones. Any other value is a 400 (code 1004).";

    public static RouteGroupBuilder MapAuditLogsApi(this RouteGroupBuilder client)
    {
        client.MapGet("/accounts/{account_id}/audit_logs", ListAuditLogs).WithTags("Audit logs").WithName("ListAuditLogs")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Said here because [Description] on an [AsParameters] member makes Microsoft.AspNetCore.OpenApi 10
                // throw (InvalidCastException) while it builds the document.
                if (operation.Parameters?.FirstOrDefault(p => p.Name == "action.result") is { } result)
                {
                    result.Description = ActionResultDescription;
                }

                return Task.CompletedTask;
            });
        return client;
    }

    public static async Task<Results<Ok<PagedEnvelope<AuditLogView>>, JsonHttpResult<ApiEnvelope<object>>>> ListAuditLogs(
        [AsParameters] AuditQuery query, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (TokensApi.AccountError(query.AccountId, caller, Permissions.AuditRead) is { } error)
        {
            return error;
        }

        if (Page.From(query.Page, query.PerPage, PageBounds.AuditLogs, out var pageError) is not { } page)
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

        if (query.ActionResult is { } result)
        {
            entries = entries.Where(a => a.ActionResult == result);
        }

        if (query.Id is { Length: > 0 } id)
        {
            entries = entries.Where(a => a.Id == id);
        }

        if (query.ActorIp is { Length: > 0 } ip)
        {
            if (!RequestIpCondition.TryParse(ip, out var network))
            {
                return ApiResults.BadRequest(ErrorCodes.InvalidField, "actor.ip must be an IPv4 or IPv6 address or CIDR prefix, such as 192.0.2.1 or 192.0.2.0/24");
            }

            entries = entries.Where(a => a.ActorIp != null && EF.Functions.ContainedByOrEqual(a.ActorIp, network));
        }

        if (query.ActorEmail is { Length: > 0 })
        {
            // No actor here has an email (tokens and the operator act without one).
            entries = entries.Where(_ => false);
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
        new ActorView(entry.ActorId, null, entry.ActorIp?.ToString(), ActorType(entry.ActorType)),
        entry.Interface,
        entry.Metadata?.RootElement,
        Text(entry.NewValue),
        entry.NewValue?.RootElement,
        Text(entry.OldValue),
        entry.OldValue?.RootElement,
        new OwnerView(entry.AccountId),
        new ResourceView(entry.ResourceId, entry.ResourceType),
        entry.When,
        entry.ZoneName is null ? null : ZoneNames.ToUnicode(entry.ZoneName));

    private static string? Text(JsonDocument? value) => value is null ? null : JsonSerializer.Serialize(value.RootElement);

    /// <summary>
    /// Cloudflare's actor types are "user", "admin" and "Cloudflare": an API token acts for a
    /// customer ("user"), the operator is the platform's "admin", and the system (the plaintext
    /// guard revoking an exposed token, say) is "Cloudflare".
    /// </summary>
    public static string ActorType(string stored) => stored switch
    {
        "token" => "user",
        "operator" => "admin",
        _ => "Cloudflare",
    };
}
