using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Tokens;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Accounts;

/// <summary>
/// <c>GET /accounts</c> and <c>GET /accounts/{id}</c>. Every token here is owned by one account,
/// and Cloudflare answers the list for such a token with 400 (code 1001, "List accounts endpoint
/// does not support account owned tokens"). That would leave clients such as <c>cli4 /accounts</c>
/// with nothing, so the list holds the token's own account instead: a harmless superset
/// (docs/compat.md). Any other account is a 404, like any other tenant's object.
/// </summary>
public static class AccountsApi
{
    /// <summary>Cloudflare's account object: id, name, type ("standard"), settings and created_on (RFC 3339, UTC).</summary>
    public sealed record AccountView(string Id, string Name, string Type, AccountSettings Settings, DateTime CreatedOn);

    /// <summary>The settings Cloudflare's account object carries that mean something here.</summary>
    public sealed record AccountSettings(bool EnforceTwofactor, bool UseAccountCustomNsByDefault);

    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder client)
    {
        var accounts = client.MapGroup("/accounts").WithTags("Accounts");
        accounts.MapGet("/", ListAccounts).WithName("ListTokenAccounts");
        accounts.MapGet("/{account_id}", GetAccount).WithName("GetTokenAccount");
        return client;
    }

    public static async Task<Results<Ok<PagedEnvelope<AccountView>>, JsonHttpResult<ApiEnvelope<object>>>> ListAccounts(
        [FromQuery(Name = "page")] int? page, [FromQuery(Name = "per_page")] int? perPage, [FromQuery(Name = "name")] string? name,
        [FromQuery(Name = "direction")] string? direction, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (Page.From(page, perPage, PageBounds.Default, out var pageError) is not { } paging)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, pageError!);
        }

        var accounts = await db.Accounts.AsNoTracking().Where(a => a.Id == caller.AccountId).ToListAsync(cancellationToken);
        var matching = accounts.Where(a => name is null || a.Name.Contains(name, StringComparison.OrdinalIgnoreCase)).Select(View).ToList();
        return TypedResults.Ok(paging.Envelope(matching.Skip(paging.Skip).Take(paging.Size).ToList(), matching.Count));
    }

    public static async Task<Results<Ok<ApiEnvelope<AccountView>>, JsonHttpResult<ApiEnvelope<object>>>> GetAccount(
        [FromRoute(Name = "account_id")] string accountId, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (TokensApi.AccountError(accountId, caller) is { } error)
        {
            return error;
        }

        var account = await db.Accounts.AsNoTracking().SingleAsync(a => a.Id == accountId, cancellationToken);
        return ApiResults.Ok(View(account));
    }

    private static AccountView View(Account account) =>
        new(account.Id, account.Name, "standard", new AccountSettings(false, false), account.CreatedOn);
}
