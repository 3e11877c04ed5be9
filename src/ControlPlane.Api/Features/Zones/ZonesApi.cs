using System.Linq.Expressions;
using System.Text;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Zones;

/// <summary>Zones, Cloudflare v4 style: create (with dedicated edge addresses), list, get, patch, delete.</summary>
public static class ZonesApi
{
    public static RouteGroupBuilder MapZonesApi(this RouteGroupBuilder client)
    {
        var zones = client.MapGroup("/zones").WithTags("Zones");
        zones.MapPost("/", CreateZone).WithName("CreateZone").Audited("zone.create", "zone").WithValidation<CreateZoneRequest>();
        zones.MapGet("/", ListZones).WithName("ListZones");
        zones.MapGet("/{zone_id}", GetZone).WithName("GetZone");
        zones.MapPatch("/{zone_id}", PatchZone).WithName("PatchZone").Audited("zone.update", "zone", "zone_id").WithValidation<PatchZoneRequest>();
        zones.MapDelete("/{zone_id}", DeleteZone).WithName("DeleteZone").Audited("zone.delete", "zone", "zone_id");
        return client;
    }

    public static async Task<Results<Ok<ApiEnvelope<ZoneView>>, JsonHttpResult<ApiEnvelope<object>>>> CreateZone(
        CreateZoneRequest request, ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work,
        AddressAllocator allocator, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Account?.Id != caller.AccountId)
        {
            return ApiResults.NotFound(ErrorCodes.UnknownObject, "account not found");
        }

        if (!caller.Can(Permissions.ZoneWrite))
        {
            return ApiResults.Forbidden();
        }

        ZoneNames.TryCanonicalize(request.Name, out var name, out _);
        var account = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == caller.AccountId, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var zone = new Zone { Id = Ids.New(), AccountId = caller.AccountId, Name = name, NameUnicode = ZoneNames.ToUnicode(name), CreatedOn = now, ModifiedOn = now, SettingModifiedOn = now };

        await work.BeginAsync(cancellationToken);
        db.Zones.Add(zone);
        foreach (var v6 in new[] { false, true })
        {
            // The allocation points at the zone; EF adds it to zone.Addresses itself.
            if (await allocator.AllocateAsync(zone, v6, cancellationToken) is null)
            {
                return ApiResults.BadRequest(ErrorCodes.PoolExhausted,
                    $"No free {(v6 ? "IPv6" : "IPv4")} edge address: every {(v6 ? "IPv6" : "IPv4")} address pool is exhausted. An operator must add a pool.");
            }
        }

        ZoneView View() => ZoneView.From(zone) with { Account = new AccountRef(account.Id, account.Name), Owner = new OwnerRef(null, account.Name, "organization") };
        audit.Record("zone.create", "zone", zone.Id, zone.AccountId, null, View(), zone.Name);
        var commit = await work.CommitAsync(cancellationToken);
        return commit.ViolatedConstraint switch
        {
            null => ApiResults.Ok(View()),
            ZoneConfiguration.UniqueLiveZoneName => ApiResults.BadRequest(ErrorCodes.ZoneExists, $"A zone with this name already exists: {zone.NameUnicode}"),
            var other => throw new InvalidOperationException($"Zone creation ran into constraint {other}"),
        };
    }

    public static async Task<Results<Ok<PagedEnvelope<ZoneView>>, JsonHttpResult<ApiEnvelope<object>>>> ListZones(
        [AsParameters] ZoneListQueryBinding query, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (Page.From(query.Page, query.PerPage, PageBounds.Default, out var pageError) is not { } page)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, pageError!);
        }

        // A token with Zone Read on some zones lists those; one without it anywhere gets a clear 403.
        var readable = caller.ZonesWith(Permissions.ZoneRead);
        if (readable is { Count: 0 })
        {
            return ApiResults.Forbidden();
        }

        var zones = db.Zones.AsNoTracking().Include(z => z.Account).Include(z => z.Addresses).AsQueryable();
        if (readable is not null)
        {
            zones = zones.Where(z => readable.Contains(z.Id));
        }

        var filters = new List<Expression<Func<Zone, bool>>>();
        if (query.Name is { Length: > 0 } name)
        {
            filters.Add(NameFilter(name));
        }

        if (query.Status is { Length: > 0 } status)
        {
            // Every live zone here is active.
            var active = status == "active";
            filters.Add(z => active);
        }

        if (query.AccountId is { Length: > 0 } accountId)
        {
            filters.Add(z => z.AccountId == accountId);
        }

        // type may be repeated or comma-separated (type=full&type=partial, type=full,partial).
        var types = (query.Type ?? []).SelectMany(t => (t ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (types.Count > 0)
        {
            filters.Add(z => types.Contains(z.Type));
        }

        if (query.AccountName is { Length: > 0 } accountName)
        {
            var (op, value) = SplitOperator(accountName);
            filters.Add(op == "contains" ? z => z.Account!.Name.Contains(value) : z => z.Account!.Name == value);
        }

        // match=all (the default) needs every filter; match=any needs one.
        if (filters.Count > 0)
        {
            zones = zones.Where(Combine(filters, any: query.Match == "any"));
        }

        var descending = query.Direction == "desc";
        zones = (query.Order ?? "name") switch
        {
            "status" or "name" => descending ? zones.OrderByDescending(z => z.Name) : zones.OrderBy(z => z.Name),
            "account.id" => descending ? zones.OrderByDescending(z => z.AccountId).ThenBy(z => z.Name) : zones.OrderBy(z => z.AccountId).ThenBy(z => z.Name),
            "account.name" => descending ? zones.OrderByDescending(z => z.Account!.Name).ThenBy(z => z.Name) : zones.OrderBy(z => z.Account!.Name).ThenBy(z => z.Name),
            _ => zones.OrderBy(z => z.Name),
        };

        var total = await zones.CountAsync(cancellationToken);
        var items = await zones.Skip(page.Skip).Take(page.Size).ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Envelope(items.Select(ZoneView.From).ToList(), total));
    }

    public static async Task<Results<Ok<ApiEnvelope<ZoneView>>, JsonHttpResult<ApiEnvelope<object>>>> GetZone(
        [FromRoute(Name = "zone_id")] string zoneId, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        var (zone, error) = await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.ZoneRead, cancellationToken);
        return error is not null ? error : ApiResults.Ok(ZoneView.From(zone!));
    }

    public static async Task<Results<Ok<ApiEnvelope<ZoneView>>, JsonHttpResult<ApiEnvelope<object>>>> PatchZone(
        [FromRoute(Name = "zone_id")] string zoneId, PatchZoneRequest request, ControlPlaneDbContext db, Caller caller, Audit audit,
        UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var (zone, error) = await ZoneAccess.FindForWriteAsync(db, work, caller, zoneId, Permissions.ZoneWrite, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var before = ZoneView.From(zone!);
        zone!.Paused = request.Paused!.Value;
        zone.ModifiedOn = time.GetUtcNow().UtcDateTime;
        var after = ZoneView.From(zone);
        audit.Record("zone.update", "zone", zone.Id, zone.AccountId, before, after, zone.Name);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(after);
    }

    public static async Task<Results<Ok<ApiEnvelope<IdResult>>, JsonHttpResult<ApiEnvelope<object>>>> DeleteZone(
        [FromRoute(Name = "zone_id")] string zoneId, ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work,
        AddressAllocator allocator, TimeProvider time, CancellationToken cancellationToken)
    {
        var (zone, error) = await ZoneAccess.FindForWriteAsync(db, work, caller, zoneId, Permissions.ZoneWrite, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var before = ZoneView.From(zone!);
        var now = time.GetUtcNow().UtcDateTime;
        zone!.DeletedOn = now;
        zone.ModifiedOn = now;
        audit.Record("zone.delete", "zone", zone.Id, zone.AccountId, before, null, zone.Name);
        // The change-log row says "enforce nothing for this zone"; the addresses go to quarantine.
        allocator.Release(zone.Addresses);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(new IdResult(zone.Id));
    }

    private static Expression<Func<Zone, bool>> Combine(List<Expression<Func<Zone, bool>>> filters, bool any)
    {
        var zone = Expression.Parameter(typeof(Zone), "z");
        var body = filters
            .Select(f => new ReplaceParameter(f.Parameters[0], zone).Visit(f.Body))
            .Aggregate((a, b) => any ? Expression.OrElse(a, b) : Expression.AndAlso(a, b));
        return Expression.Lambda<Func<Zone, bool>>(body, zone);
    }

    private sealed class ReplaceParameter(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }

    /// <summary>The operators of the <c>name</c> filter: the official Cloudflare TypeScript SDK's list, and two of ours.</summary>
    internal static readonly string[] NameOperators =
    [
        "equal", "not_equal", "contains", "starts_with", "ends_with",
        "contains_case_sensitive", "starts_with_case_sensitive", "ends_with_case_sensitive",
        // Not in the SDK's list; the case-sensitive pair of equal and not_equal, for symmetry.
        "equal_case_sensitive", "not_equal_case_sensitive",
    ];

    /// <summary>
    /// <c>name=[operator:]value</c>. Matching applies to the Unicode form of the name, and to its
    /// xn-- form as well, so a punycode query finds the zone too. Without <c>_case_sensitive</c>
    /// the value is lowercased first (Unicode-aware: <c>MÜNCHEN</c> finds <c>münchen</c>); stored
    /// names are lowercase, so a case-sensitive query with a capital letter finds nothing. Plain
    /// <c>equal</c> and <c>not_equal</c> compare canonical names when the value is a valid zone name.
    /// </summary>
    internal static Expression<Func<Zone, bool>> NameFilter(string filter)
    {
        var (op, raw) = SplitOperator(filter, NameOperators);
        var caseSensitive = op.EndsWith("_case_sensitive", StringComparison.Ordinal);
        var value = raw.Normalize(NormalizationForm.FormC);
        if (!caseSensitive)
        {
            value = value.ToLowerInvariant();
        }

        var canonical = !caseSensitive && op is "equal" or "not_equal" && ZoneNames.TryCanonicalize(raw, out var c, out _) ? c : null;
        Expression<Func<Zone, bool>> equal = canonical is not null
            ? z => z.Name == canonical
            : z => z.NameUnicode == value || z.Name == value;
        return op.Replace("_case_sensitive", "", StringComparison.Ordinal) switch
        {
            "contains" => z => z.NameUnicode.Contains(value) || z.Name.Contains(value),
            "starts_with" => z => z.NameUnicode.StartsWith(value) || z.Name.StartsWith(value),
            "ends_with" => z => z.NameUnicode.EndsWith(value) || z.Name.EndsWith(value),
            "not_equal" => Expression.Lambda<Func<Zone, bool>>(Expression.Not(equal.Body), equal.Parameters),
            _ => equal,
        };
    }

    private static (string Operator, string Value) SplitOperator(string filter, string[]? operators = null)
    {
        foreach (var op in operators ?? ["contains", "starts_with", "ends_with", "equal"])
        {
            if (filter.StartsWith(op + ":", StringComparison.Ordinal))
            {
                return (op, filter[(op.Length + 1)..]);
            }
        }

        return ("equal", filter);
    }
}

/// <summary><c>{"id": …}</c>, the result of a delete.</summary>
public sealed record IdResult(string Id);

/// <summary>The query of <c>GET /zones</c>, with Cloudflare's parameter names (dotted ones included).</summary>
public sealed record ZoneListQueryBinding(
    [FromQuery(Name = "page")] int? Page,
    [FromQuery(Name = "per_page")] int? PerPage,
    [FromQuery(Name = "name")] string? Name,
    [FromQuery(Name = "status")] string? Status,
    [FromQuery(Name = "account.id")] string? AccountId,
    [FromQuery(Name = "account.name")] string? AccountName,
    [FromQuery(Name = "order")] string? Order,
    [FromQuery(Name = "direction")] string? Direction,
    [FromQuery(Name = "match")] string? Match,
    [FromQuery(Name = "type")] string[]? Type);
