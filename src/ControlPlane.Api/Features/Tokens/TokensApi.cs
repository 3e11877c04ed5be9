using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Tokens;

/// <summary>Token verification and account tokens: create, list, get, update, revoke, roll, and the permission groups.</summary>
public static class TokensApi
{
    public sealed record VerifyResult(string Id, string Status, DateTime? NotBefore, DateTime? ExpiresOn);

    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder client)
    {
        client.MapGet("/user/tokens/verify", VerifyUserToken).WithTags("API tokens").WithName("VerifyUserToken");
        var tokens = client.MapGroup("/accounts/{account_id}/tokens").WithTags("API tokens");
        tokens.MapGet("/verify", VerifyAccountToken).WithName("VerifyAccountToken");
        tokens.MapPost("/", CreateToken).WithName("CreateToken").Audited("token.create", "api_token").WithValidation<TokenRequest>();
        tokens.MapGet("/", ListTokens).WithName("ListTokens");
        tokens.MapGet("/permission_groups", ListPermissionGroups).WithName("ListTokenPermissionGroups");
        tokens.MapGet("/{token_id}", GetToken).WithName("GetToken");
        tokens.MapPut("/{token_id}", UpdateToken).WithName("UpdateToken").Audited("token.update", "api_token", "token_id").WithValidation<TokenRequest>();
        tokens.MapDelete("/{token_id}", RevokeToken).WithName("RevokeToken").Audited("token.revoke", "api_token", "token_id");
        tokens.MapPut("/{token_id}/value", RollToken).WithName("RollToken").Audited("token.roll", "api_token", "token_id");
        return client;
    }

    public static Ok<ApiEnvelope<VerifyResult>> VerifyUserToken(Caller caller, TimeProvider time) => Verified(caller, time);

    public static Results<Ok<ApiEnvelope<VerifyResult>>, JsonHttpResult<ApiEnvelope<object>>> VerifyAccountToken(
        [FromRoute(Name = "account_id")] string accountId, Caller caller, TimeProvider time) =>
        AccountError(accountId, caller) is { } error ? error : Verified(caller, time);

    public static async Task<Results<Ok<ApiEnvelope<CreatedTokenView>>, JsonHttpResult<ApiEnvelope<object>>>> CreateToken(
        [FromRoute(Name = "account_id")] string accountId, TokenRequest request, ControlPlaneDbContext db, Caller caller,
        Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        if (AccountError(accountId, caller, Permissions.TokensWrite) is { } error)
        {
            return error;
        }

        return await TokenIssuer.CreateAsync(db, audit, work, accountId, request, time.GetUtcNow().UtcDateTime, cancellationToken);
    }

    public static async Task<Results<Ok<PagedEnvelope<TokenView>>, JsonHttpResult<ApiEnvelope<object>>>> ListTokens(
        [FromRoute(Name = "account_id")] string accountId, [FromQuery(Name = "page")] int? page, [FromQuery(Name = "per_page")] int? perPage,
        ControlPlaneDbContext db, Caller caller, TimeProvider time, CancellationToken cancellationToken)
    {
        if (AccountError(accountId, caller, Permissions.TokensWrite) is { } error)
        {
            return error;
        }

        if (Page.From(page, perPage, PageBounds.Default, out var pageError) is not { } paging)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, pageError!);
        }

        var total = await db.ApiTokens.CountAsync(cancellationToken);
        var tokens = await db.ApiTokens.AsNoTracking().OrderBy(t => t.IssuedOn).ThenBy(t => t.Id)
            .Skip(paging.Skip).Take(paging.Size).ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(paging.Envelope(tokens.Select(t => TokenView.From(t, now)).ToList(), total));
    }

    public static async Task<Results<Ok<ApiEnvelope<TokenView>>, JsonHttpResult<ApiEnvelope<object>>>> GetToken(
        [FromRoute(Name = "account_id")] string accountId, [FromRoute(Name = "token_id")] string tokenId,
        ControlPlaneDbContext db, Caller caller, TimeProvider time, CancellationToken cancellationToken)
    {
        var (token, error) = await FindAsync(accountId, tokenId, db, caller, cancellationToken);
        return error is not null ? error : ApiResults.Ok(TokenView.From(token!, time.GetUtcNow().UtcDateTime));
    }

    /// <summary>
    /// <c>PUT /accounts/{id}/tokens/{token_id}</c>: replaces name, policies, not_before, expires_on
    /// and condition; <c>status: "disabled"</c> revokes. Takes effect on this replica at once and on
    /// the others through the token-change notification, like a revoke.
    /// </summary>
    public static async Task<Results<Ok<ApiEnvelope<TokenView>>, JsonHttpResult<ApiEnvelope<object>>>> UpdateToken(
        [FromRoute(Name = "account_id")] string accountId, [FromRoute(Name = "token_id")] string tokenId, TokenRequest request,
        ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var (token, error) = await FindAsync(accountId, tokenId, db, caller, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var before = TokenView.From(token!, now);
        var zoneIds = await TokenIssuer.OwnZonesNamedAsync(db, accountId, request, cancellationToken);
        if (!TokenIssuer.Update(token!, request, zoneIds, now, out var problem))
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, problem!);
        }

        var after = TokenView.From(token!, now);
        audit.Record("token.update", "api_token", token!.Id, accountId, before, after);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(after);
    }

    /// <summary>A permission group as Cloudflare lists it: id, name and the resource kinds it applies to.</summary>
    public sealed record PermissionGroupView(string Id, string Name, IReadOnlyList<string> Scopes);

    /// <summary>
    /// <c>GET /accounts/{id}/tokens/permission_groups</c>: every group a token of this API can
    /// hold, optionally filtered by exact <c>name</c> or <c>scope</c>. Any valid token of the account may list them.
    /// </summary>
    public static Results<Ok<PagedEnvelope<PermissionGroupView>>, JsonHttpResult<ApiEnvelope<object>>> ListPermissionGroups(
        [FromRoute(Name = "account_id")] string accountId, [FromQuery(Name = "name")] string? name, [FromQuery(Name = "scope")] string? scope,
        [FromQuery(Name = "page")] int? page, [FromQuery(Name = "per_page")] int? perPage, Caller caller)
    {
        if (AccountError(accountId, caller) is { } error)
        {
            return error;
        }

        if (Page.From(page, perPage, PageBounds.Default, out var pageError) is not { } paging)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, pageError!);
        }

        var groups = Permissions.All
            .Where(g => name is null || g.Name == name)
            .Where(g => scope is null || g.Scope == scope)
            .Select(g => new PermissionGroupView(g.Id, g.Name, [g.Scope]))
            .ToList();
        return TypedResults.Ok(paging.Envelope(groups.Skip(paging.Skip).Take(paging.Size).ToList(), groups.Count));
    }

    /// <summary>Revokes the token. It stays listed as "disabled" so the audit trail keeps its subject.</summary>
    public static async Task<Results<Ok<ApiEnvelope<Zones.IdResult>>, JsonHttpResult<ApiEnvelope<object>>>> RevokeToken(
        [FromRoute(Name = "account_id")] string accountId, [FromRoute(Name = "token_id")] string tokenId,
        ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var (token, error) = await FindAsync(accountId, tokenId, db, caller, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var before = TokenView.From(token!, now);
        token!.Revoke(now, "revoked through the API");
        audit.Record("token.revoke", "api_token", token.Id, accountId, before, TokenView.From(token, now));
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(new Zones.IdResult(token.Id));
    }

    /// <summary>Replaces the secret; the old one stops working at once. The result is the new secret, shown once.</summary>
    public static async Task<Results<Ok<ApiEnvelope<string>>, JsonHttpResult<ApiEnvelope<object>>>> RollToken(
        [FromRoute(Name = "account_id")] string accountId, [FromRoute(Name = "token_id")] string tokenId,
        ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var (token, error) = await FindAsync(accountId, tokenId, db, caller, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (token!.RevokedOn is not null)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, "A revoked token cannot be rolled.");
        }

        var secret = Ids.NewSecret(TokenIssuer.SecretPrefix);
        var now = time.GetUtcNow().UtcDateTime;
        token.SecretHash = Ids.Hash(secret);
        token.ModifiedOn = now;
        audit.Record("token.roll", "api_token", token.Id, accountId, null, TokenView.From(token, now));
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(secret);
    }

    private static async Task<(ApiToken? Token, JsonHttpResult<ApiEnvelope<object>>? Error)> FindAsync(
        string accountId, string tokenId, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        if (AccountError(accountId, caller) is { } error)
        {
            return (null, error);
        }

        if (!Ids.IsWellFormed(tokenId))
        {
            return (null, ApiResults.MalformedId("token"));
        }

        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is null)
        {
            return (null, ApiResults.NotFound(ErrorCodes.UnknownObject, "Token not found"));
        }

        return caller.Can(Permissions.TokensWrite) ? (token, null) : (null, ApiResults.Forbidden());
    }

    /// <summary>Another account is a 404, like any object of another tenant; then the permission, if one is named.</summary>
    public static JsonHttpResult<ApiEnvelope<object>>? AccountError(string accountId, Caller caller, PermissionGroup? permission = null)
    {
        if (!Ids.IsWellFormed(accountId))
        {
            return ApiResults.MalformedId("account");
        }

        if (accountId != caller.AccountId)
        {
            return ApiResults.NotFound(ErrorCodes.UnknownObject, "Account not found");
        }

        return permission is not null && !caller.Can(permission) ? ApiResults.Forbidden() : null;
    }

    private static Ok<ApiEnvelope<VerifyResult>> Verified(Caller caller, TimeProvider time)
    {
        var token = caller.Token!;
        return ApiResults.Ok(
            new VerifyResult(token.Id, TokenView.StatusOf(token, time.GetUtcNow().UtcDateTime), token.NotBefore, token.ExpiresOn),
            new ApiMessage(ErrorCodes.AuthenticationError, "This API Token is valid and active"));
    }
}
