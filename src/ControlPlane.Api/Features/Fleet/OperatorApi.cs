using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Tokens;
using ControlPlane.Api.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Fleet;

/// <summary>The operator's API: accounts (and their first token), data centers, address pools.</summary>
public static class OperatorApi
{
    public sealed record CreateAccountRequest(string? Name);

    public sealed class CreateAccountRequestValidator : AbstractValidator<CreateAccountRequest>
    {
        private const string NameRule = "name is required (at most 200 characters)";

        // WithMessage after each rule: one after the chain would name only its last rule, leaving FluentValidation's "'Name' must not be empty."
        public CreateAccountRequestValidator() => RuleFor(r => r.Name).NotEmpty().WithMessage(NameRule).MaximumLength(200).WithMessage(NameRule);
    }

    /// <summary>An account, with the number of its live zones (named apart from Cloudflare's account object, <c>AccountsApi.AccountView</c>, so each has its own OpenAPI schema).</summary>
    /// <param name="Id">The account's id.</param>
    /// <param name="Name">The account's name.</param>
    /// <param name="CreatedOn">When the account was created.</param>
    /// <param name="ZoneCount">Its zones, deleted ones not counted.</param>
    public sealed record OperatorAccountView(string Id, string Name, DateTime CreatedOn, long ZoneCount);

    public sealed record RegisterDataCenterRequest(string? Code, string? Name);

    public sealed class RegisterDataCenterRequestValidator : AbstractValidator<RegisterDataCenterRequest>
    {
        public RegisterDataCenterRequestValidator()
        {
            RuleFor(r => r.Code).NotEmpty().Matches("^[a-z0-9][a-z0-9-]{1,15}$").WithMessage("code must be 2-16 lowercase letters, digits or '-', such as 'ams'");
            RuleFor(r => r.Name).NotEmpty().MaximumLength(120).WithMessage("name is required (at most 120 characters)");
        }
    }

    public sealed record DataCenterView(string Code, string Name, DateTime CreatedOn);

    /// <summary>Returned once, at registration: the agent's credential is stored only as a hash.</summary>
    public sealed record RegisteredDataCenterView(string Code, string Name, DateTime CreatedOn, string AgentCredential);

    public sealed record CreatePoolRequest(string? Cidr);

    public sealed class CreatePoolRequestValidator : AbstractValidator<CreatePoolRequest>
    {
        public CreatePoolRequestValidator() => RuleFor(r => r.Cidr).Custom((cidr, context) =>
        {
            if (AddressAllocator.ParsePool(cidr, out var error) is null)
            {
                context.AddFailure("cidr", error);
            }
        });
    }

    /// <summary>An address pool and how its addresses are spent; <c>used + quarantined + free = size</c>.</summary>
    /// <param name="Id">The pool's id.</param>
    /// <param name="Cidr">The pool's prefix.</param>
    /// <param name="Family"><c>ipv4</c> or <c>ipv6</c>.</param>
    /// <param name="Size">Usable addresses (an IPv4 pool skips its network and broadcast addresses).</param>
    /// <param name="Used">Addresses allocated to live zones.</param>
    /// <param name="Quarantined">Addresses released by deleted zones within the quarantine period (24 h by default), not yet given out again.</param>
    /// <param name="Free">Addresses a new zone may get now.</param>
    /// <param name="CreatedOn">When the pool was added.</param>
    public sealed record PoolView(string Id, string Cidr, string Family, long Size, long Used, long Quarantined, long Free, DateTime CreatedOn)
    {
        /// <summary>The share of a pool allocated at which the dashboard warns that it is filling up.</summary>
        public const double WarningRatio = 0.8;

        /// <summary>True when at least <see cref="WarningRatio"/> of the pool is allocated.</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public bool NearlyFull => Size > 0 && Used >= WarningRatio * Size;
    }

    public static RouteGroupBuilder MapOperatorApi(this RouteGroupBuilder operatorApi)
    {
        operatorApi.MapPost("/accounts", CreateAccount).WithTags("Operator").WithName("CreateAccount").Audited("account.create", "account").WithValidation<CreateAccountRequest>();
        operatorApi.MapGet("/accounts", ListAccounts).WithTags("Operator").WithName("ListAccounts");
        operatorApi.MapGet("/accounts/{account_id}", GetAccount).WithTags("Operator").WithName("GetAccount");
        operatorApi.MapPost("/accounts/{account_id}/tokens", CreateAccountToken).WithTags("Operator").WithName("CreateAccountToken").Audited("token.create", "api_token").WithValidation<TokenRequest>();
        operatorApi.MapPost("/data_centers", RegisterDataCenter).WithTags("Operator").WithName("RegisterDataCenter").Audited("data_center.register", "data_center").WithValidation<RegisterDataCenterRequest>();
        operatorApi.MapGet("/data_centers", ListDataCenters).WithTags("Operator").WithName("ListDataCenters");
        operatorApi.MapGet("/data_centers/status", FleetStatus).WithTags("Operator").WithName("FleetStatus");
        operatorApi.MapPost("/address_pools", CreatePool).WithTags("Operator").WithName("CreateAddressPool").Audited("address_pool.create", "address_pool").WithValidation<CreatePoolRequest>();
        operatorApi.MapGet("/address_pools", ListPools).WithTags("Operator").WithName("ListAddressPools");
        return operatorApi;
    }

    public static async Task<Ok<ApiEnvelope<OperatorAccountView>>> CreateAccount(
        CreateAccountRequest request, ControlPlaneDbContext db, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var account = new Account { Id = Ids.New(), Name = request.Name!.Trim(), CreatedOn = time.GetUtcNow().UtcDateTime };
        db.Accounts.Add(account);
        var view = new OperatorAccountView(account.Id, account.Name, account.CreatedOn, 0);
        audit.Record("account.create", "account", account.Id, account.Id, null, view);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(view);
    }

    public static async Task<Results<Ok<PagedEnvelope<OperatorAccountView>>, JsonHttpResult<ApiEnvelope<object>>>> ListAccounts(
        [FromQuery(Name = "page")] int? page, [FromQuery(Name = "per_page")] int? perPage, ControlPlaneDbContext db, CancellationToken cancellationToken)
    {
        if (Page.From(page, perPage, PageBounds.Default, out var error) is not { } paging)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, error!);
        }

        var total = await db.Accounts.CountAsync(cancellationToken);
        var accounts = await db.Accounts.AsNoTracking().OrderBy(a => a.CreatedOn).ThenBy(a => a.Id).Skip(paging.Skip).Take(paging.Size)
            .Select(a => new OperatorAccountView(a.Id, a.Name, a.CreatedOn, db.Zones.LongCount(z => z.AccountId == a.Id))).ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.Envelope(accounts, total));
    }

    public static async Task<Results<Ok<ApiEnvelope<OperatorAccountView>>, JsonHttpResult<ApiEnvelope<object>>>> GetAccount(
        [FromRoute(Name = "account_id")] string accountId, ControlPlaneDbContext db, CancellationToken cancellationToken)
    {
        if (!Ids.IsWellFormed(accountId))
        {
            return ApiResults.MalformedId("account");
        }

        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId)
            .Select(a => new OperatorAccountView(a.Id, a.Name, a.CreatedOn, db.Zones.LongCount(z => z.AccountId == a.Id))).SingleOrDefaultAsync(cancellationToken);
        return account is null
            ? ApiResults.NotFound(ErrorCodes.UnknownObject, "Account not found")
            : ApiResults.Ok(account);
    }

    /// <summary>Issues a token for an account, so its owner can start using the customer API.</summary>
    public static async Task<Results<Ok<ApiEnvelope<CreatedTokenView>>, JsonHttpResult<ApiEnvelope<object>>>> CreateAccountToken(
        [FromRoute(Name = "account_id")] string accountId, TokenRequest request, ControlPlaneDbContext db, Audit audit,
        UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Ids.IsWellFormed(accountId))
        {
            return ApiResults.MalformedId("account");
        }

        if (!await db.Accounts.AnyAsync(a => a.Id == accountId, cancellationToken))
        {
            return ApiResults.NotFound(ErrorCodes.UnknownObject, "Account not found");
        }

        return await TokenIssuer.CreateAsync(db, audit, work, accountId, request, time.GetUtcNow().UtcDateTime, cancellationToken);
    }

    public static async Task<Results<Ok<ApiEnvelope<RegisteredDataCenterView>>, JsonHttpResult<ApiEnvelope<object>>>> RegisterDataCenter(
        RegisterDataCenterRequest request, ControlPlaneDbContext db, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var credential = Ids.NewSecret("cpdc_");
        var dataCenter = new DataCenter { Code = request.Code!, Name = request.Name!.Trim(), CredentialHash = Ids.Hash(credential), CreatedOn = time.GetUtcNow().UtcDateTime };
        db.DataCenters.Add(dataCenter);
        audit.Record("data_center.register", "data_center", dataCenter.Code, null, null, new DataCenterView(dataCenter.Code, dataCenter.Name, dataCenter.CreatedOn));
        if (!(await work.CommitAsync(cancellationToken)).Committed)
        {
            return ApiResults.BadRequest(ErrorCodes.Conflict, $"Data center '{request.Code}' is already registered");
        }

        return ApiResults.Ok(new RegisteredDataCenterView(dataCenter.Code, dataCenter.Name, dataCenter.CreatedOn, credential));
    }

    public sealed record DataCenterStatusView(
        string Code, string Name, string State, long Watermark, long Lag, DateTimeOffset? LastSeenOn, string? AgentVersion, bool Ready,
        string? Reason, long DriftRepairs, int FailedZones, long LoopFailures, string? LastLoopError);

    public sealed record FleetView(long LatestRevision, long PublishedRevision, long DispatchLag, IReadOnlyList<DataCenterStatusView> DataCenters);

    /// <summary>Per DC: watermark, lag behind the log, last seen, state (fresh, stale, never), agent version; plus the dispatch lag.</summary>
    public static async Task<Ok<ApiEnvelope<FleetView>>> FleetStatus(
        ControlPlaneDbContext db, TimeProvider time, Microsoft.Extensions.Options.IOptions<Zones.StatusOptions> options, CancellationToken cancellationToken) =>
        ApiResults.Ok(await ReadFleetAsync(db, time.GetUtcNow(), options.Value.StaleAfter, cancellationToken));

    /// <summary>
    /// The fleet as of <paramref name="now"/>: the latest and published revisions, and per registered
    /// DC (by code) its state (<c>fresh</c>, <c>stale</c> when silent longer than
    /// <paramref name="staleAfter"/>, <c>never</c> when it has not reported) and lag in revisions.
    /// The one reading behind the status route and the fleet metrics.
    /// </summary>
    public static async Task<FleetView> ReadFleetAsync(ControlPlaneDbContext db, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        var latest = (await db.RevisionSequencer.AsNoTracking().SingleAsync(cancellationToken)).LastRevision;
        var published = await db.ChangeLog.Where(c => c.PublishedOn != null).MaxAsync(c => (long?)c.Revision, cancellationToken) ?? 0;
        var statuses = await db.EdgeAgentStatuses.AsNoTracking().ToDictionaryAsync(s => s.DataCenter, cancellationToken);
        var rows = (await db.DataCenters.AsNoTracking().OrderBy(d => d.Code).ToListAsync(cancellationToken)).Select(d =>
        {
            if (!statuses.TryGetValue(d.Code, out var s))
            {
                return new DataCenterStatusView(d.Code, d.Name, "never", 0, latest, null, null, false, null, 0, 0, 0, null);
            }

            var failed = s.Failures.Count;
            var state = s.IsStale(now, staleAfter) ? "stale" : "fresh";
            return new DataCenterStatusView(d.Code, d.Name, state, s.Watermark, latest - s.Watermark, s.ReceivedAt, s.AgentVersion, s.Ready, s.Reason, s.DriftRepairs, failed, s.LoopFailures, s.LastLoopError);
        }).ToList();
        return new FleetView(latest, published, latest - published, rows);
    }

    public static async Task<Ok<ApiEnvelope<List<DataCenterView>>>> ListDataCenters(ControlPlaneDbContext db, CancellationToken cancellationToken) =>
        ApiResults.Ok(await db.DataCenters.AsNoTracking().OrderBy(d => d.Code)
            .Select(d => new DataCenterView(d.Code, d.Name, d.CreatedOn)).ToListAsync(cancellationToken));

    public static async Task<Results<Ok<ApiEnvelope<PoolView>>, JsonHttpResult<ApiEnvelope<object>>>> CreatePool(
        CreatePoolRequest request, ControlPlaneDbContext db, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        var (network, size) = AddressAllocator.ParsePool(request.Cidr, out _)!.Value;
        await work.BeginAsync(cancellationToken);
        // One pool creation at a time, so two overlapping pools cannot both pass the check.
        await db.Database.ExecuteSqlRawAsync("LOCK TABLE address_pools IN SHARE ROW EXCLUSIVE MODE", cancellationToken);
        foreach (var existing in await db.AddressPools.AsNoTracking().ToListAsync(cancellationToken))
        {
            if (AddressAllocator.Overlap(network, AddressAllocator.ParsePool(existing.Cidr, out _)!.Value.Network))
            {
                return ApiResults.BadRequest(ErrorCodes.PoolOverlap, $"{network} overlaps the existing pool {existing.Cidr}");
            }
        }

        var pool = new AddressPool
        {
            Id = Ids.New(),
            Cidr = network.ToString(),
            IsV6 = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6,
            Size = size,
            CreatedOn = time.GetUtcNow().UtcDateTime,
        };
        db.AddressPools.Add(pool);
        var view = View(pool, new AddressAllocator.PoolUsage(0, 0));
        audit.Record("address_pool.create", "address_pool", pool.Id, null, null, view);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(view);
    }

    public static async Task<Ok<ApiEnvelope<List<PoolView>>>> ListPools(ControlPlaneDbContext db, AddressAllocator allocator, CancellationToken cancellationToken)
    {
        var pools = await db.AddressPools.AsNoTracking().OrderBy(p => p.CreatedOn).ToListAsync(cancellationToken);
        var usage = await allocator.UsageAsync(cancellationToken);
        return ApiResults.Ok(pools.Select(p => View(p, usage.GetValueOrDefault(p.Id) ?? new AddressAllocator.PoolUsage(0, 0))).ToList());
    }

    private static PoolView View(AddressPool pool, AddressAllocator.PoolUsage usage) =>
        new(pool.Id, pool.Cidr, pool.IsV6 ? "ipv6" : "ipv4", pool.Size, usage.Allocated, usage.Quarantined, usage.Free(pool.Size), pool.CreatedOn);
}
