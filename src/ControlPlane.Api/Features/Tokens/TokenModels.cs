using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Api.Features.Tokens;

/// <summary>
/// A permission group in a policy: <c>{"id","name"?,"meta"?}</c>. Only the id counts; the name
/// and Cloudflare's <c>meta</c> are accepted so that a token read back can be sent again.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PermissionGroupRef(string? Id, string? Name, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Meta = null);

/// <summary>A policy as Cloudflare writes it: resources map a resource key to "*".</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicyModel(string? Id, string? Effect, List<PermissionGroupRef?>? PermissionGroups, Dictionary<string, string?>? Resources);

/// <summary>
/// The body of token create (<c>POST /accounts/{id}/tokens</c>) and update
/// (<c>PUT /accounts/{id}/tokens/{token_id}</c>): every field of Cloudflare's token object.
/// <c>id</c>, <c>issued_on</c>, <c>modified_on</c> and <c>last_used_on</c> are read-only and
/// ignored, so a token read with GET can be edited and sent back; <c>status</c> counts only on
/// update. A field outside this schema fails deserialisation (400, code 1004), never dropped.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TokenRequest(
    string? Name,
    List<PolicyModel?>? Policies,
    DateTime? NotBefore,
    DateTime? ExpiresOn,
    TokenCondition? Condition = null,
    string? Status = null,
    string? Id = null,
    DateTime? IssuedOn = null,
    DateTime? ModifiedOn = null,
    DateTime? LastUsedOn = null);

public sealed class TokenRequestValidator : AbstractValidator<TokenRequest>
{
    /// <summary>At most this many addresses or prefixes in each of <c>in</c> and <c>not_in</c>.</summary>
    public const int MaxPrefixes = 100;

    public TokenRequestValidator()
    {
        RuleFor(r => r.Name).NotEmpty().MaximumLength(120).WithMessage("name is required (at most 120 characters)");
        RuleFor(r => r.Policies).NotEmpty().WithMessage("policies must hold at least one policy");
        // ChildRules skips a null element, so it is refused before them.
        RuleForEach(r => r.Policies).NotNull().WithMessage("policies must not hold null").ChildRules(policy =>
        {
            policy.RuleFor(p => p!.Effect).Must(e => e is "allow" or "deny").WithMessage("policy effect must be 'allow' or 'deny'");
            policy.RuleFor(p => p!.PermissionGroups).NotEmpty().WithMessage("a policy needs permission_groups");
            policy.RuleForEach(p => p!.PermissionGroups).NotNull().WithMessage("permission_groups must not hold null")
                .Must(g => Permissions.Find(g?.Id) is not null)
                .WithMessage((_, g) => $"unknown permission group '{g?.Id}'");
            policy.RuleFor(p => p!.Resources).NotEmpty().WithMessage("a policy needs resources");
            policy.RuleForEach(p => p!.Resources).Must(r => r.Value == "*").WithMessage("resource values must be \"*\"");
        });
        RuleFor(r => r).Must(r => r.NotBefore is null || r.ExpiresOn is null || r.NotBefore < r.ExpiresOn)
            .WithName("expires_on").WithMessage("expires_on must be after not_before");
        RuleFor(r => r.Status).Must(s => s is null or "active" or "disabled" or "expired")
            .WithMessage("status must be 'active', 'disabled' or 'expired'");
        RuleFor(r => r.Condition!.RequestIp!.In).Must(BeAddressesOrPrefixes).When(r => r.Condition?.RequestIp?.In is not null)
            .WithName("condition.request_ip.in").WithMessage(PrefixMessage("in"));
        RuleFor(r => r.Condition!.RequestIp!.NotIn).Must(BeAddressesOrPrefixes).When(r => r.Condition?.RequestIp?.NotIn is not null)
            .WithName("condition.request_ip.not_in").WithMessage(PrefixMessage("not_in"));
    }

    private static bool BeAddressesOrPrefixes(List<string>? values) =>
        values is { Count: <= MaxPrefixes } && values.All(v => RequestIpCondition.TryParse(v, out _));

    private static string PrefixMessage(string list) =>
        $"condition.request_ip.{list} must list at most {MaxPrefixes} IPv4 or IPv6 addresses or CIDR prefixes (host bits zero), such as 192.0.2.0/24 or 2001:db8::/32";
}

/// <summary>A token as the API shows it: never its secret.</summary>
public sealed record TokenView(
    string Id,
    string Name,
    string Status,
    DateTime IssuedOn,
    DateTime ModifiedOn,
    DateTime? LastUsedOn,
    DateTime? NotBefore,
    DateTime? ExpiresOn,
    List<PolicyModel?> Policies,
    object Condition)
{
    public static TokenView From(ApiToken token, DateTime now) => new(
        token.Id,
        token.Name,
        StatusOf(token, now),
        token.IssuedOn,
        token.ModifiedOn,
        token.LastUsedOn,
        token.NotBefore,
        token.ExpiresOn,
        token.Policies.Select(p => new PolicyModel(
            p.Id,
            p.Effect,
            p.PermissionGroupIds.Select(id => new PermissionGroupRef(id, Permissions.Find(id)?.Name)).ToList<PermissionGroupRef?>(),
            p.Resources.ToDictionary(r => r, _ => (string?)"*"))).ToList<PolicyModel?>(),
        token.Condition is null ? new { } : token.Condition);

    /// <summary>Cloudflare's statuses: a revoked token is "disabled".</summary>
    public static string StatusOf(ApiToken token, DateTime now) =>
        token.RevokedOn is not null ? "disabled" : token.ExpiresOn <= now ? "expired" : "active";
}

/// <summary>The one response that carries a secret: the token as created, with its value.</summary>
public sealed record CreatedTokenView(
    string Id, string Name, string Status, DateTime IssuedOn, DateTime ModifiedOn, DateTime? LastUsedOn,
    DateTime? NotBefore, DateTime? ExpiresOn, List<PolicyModel?> Policies, object Condition, string Value);

public static class TokenIssuer
{
    public const string SecretPrefix = "cpat_";

    /// <summary>
    /// Builds a token from a validated request. Resources must be this account or its
    /// zones; anything else is refused (the error, or null when fine).
    /// </summary>
    public static (ApiToken Token, string Secret)? Issue(string accountId, TokenRequest request, ISet<string> accountZoneIds, DateTime now, out string? error)
    {
        if (Policies(accountId, request, accountZoneIds, out error) is not { } policies)
        {
            return null;
        }

        var secret = Ids.NewSecret(SecretPrefix);
        var token = new ApiToken
        {
            Id = Ids.New(),
            AccountId = accountId,
            Name = request.Name!,
            SecretHash = Ids.Hash(secret),
            Policies = policies,
            NotBefore = request.NotBefore?.ToUniversalTime(),
            ExpiresOn = request.ExpiresOn?.ToUniversalTime(),
            Condition = Normalize(request.Condition),
            IssuedOn = now,
            ModifiedOn = now,
        };
        return (token, secret);
    }

    /// <summary>
    /// Applies a validated update (<c>PUT</c>) to the token: name, policies, not_before,
    /// expires_on and condition are replaced; <c>status</c> "disabled" revokes, and a status
    /// equal to the current one changes nothing. A disabled token cannot be re-enabled (it may
    /// have been revoked because its secret leaked); that, or a resource outside the account,
    /// is the error, and nothing is changed.
    /// </summary>
    public static bool Update(ApiToken token, TokenRequest request, ISet<string> accountZoneIds, DateTime now, out string? error)
    {
        if (Policies(token.AccountId, request, accountZoneIds, out error) is not { } policies)
        {
            return false;
        }

        var status = TokenView.StatusOf(token, now);
        if (request.Status is { } wanted && wanted != status && wanted != "disabled")
        {
            error = status == "disabled"
                ? "A disabled token cannot be re-enabled; create a new token."
                : $"status cannot be set to '{wanted}'; set expires_on instead.";
            return false;
        }

        token.Name = request.Name!;
        token.Policies = policies;
        token.NotBefore = request.NotBefore?.ToUniversalTime();
        token.ExpiresOn = request.ExpiresOn?.ToUniversalTime();
        token.Condition = Normalize(request.Condition);
        token.ModifiedOn = now;
        if (request.Status == "disabled")
        {
            token.Revoke(now, "disabled through the API");
        }

        return true;
    }

    private static List<TokenPolicy>? Policies(string accountId, TokenRequest request, ISet<string> accountZoneIds, out string? error)
    {
        error = null;
        var policies = new List<TokenPolicy>();
        foreach (var policy in request.Policies!)
        {
            foreach (var resource in policy!.Resources!.Keys)
            {
                var isAccount = resource == Permissions.AccountResource(accountId);
                var zonePrefix = Permissions.ZoneResource("");
                var isOwnZone = resource.StartsWith(zonePrefix, StringComparison.Ordinal) && accountZoneIds.Contains(resource[zonePrefix.Length..]);
                if (!isAccount && !isOwnZone)
                {
                    error = $"resource '{resource}' is not this account or one of its zones";
                    return null;
                }
            }

            policies.Add(new TokenPolicy
            {
                Id = Ids.New(),
                Effect = policy.Effect!,
                PermissionGroupIds = policy.PermissionGroups!.Select(g => g!.Id!).Distinct().ToList(),
                Resources = policy.Resources.Keys.ToList(),
            });
        }

        return policies;
    }

    /// <summary>An empty condition is no condition; lists are never null once stored.</summary>
    private static TokenCondition? Normalize(TokenCondition? condition) =>
        condition?.RequestIp is { } ip && (ip.In is { Count: > 0 } || ip.NotIn is { Count: > 0 })
            ? new TokenCondition(new RequestIpCondition(ip.In ?? [], ip.NotIn ?? []))
            : null;

    /// <summary>
    /// The zones of the account that the request's policies name as resources: only those are
    /// read, so a token of an account with 100,000 zones does not load them all.
    /// </summary>
    public static async Task<ISet<string>> OwnZonesNamedAsync(ControlPlaneDbContext db, string accountId, TokenRequest request, CancellationToken cancellationToken)
    {
        var prefix = Permissions.ZoneResource("");
        var named = (request.Policies ?? []).SelectMany(p => p?.Resources?.Keys ?? Enumerable.Empty<string>())
            .Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r[prefix.Length..]).Distinct().ToList();
        if (named.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        return (await db.Zones.Where(z => z.AccountId == accountId && named.Contains(z.Id)).Select(z => z.Id)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Creates, audits and saves a token for the account; the response is the one place its secret appears.</summary>
    public static async Task<Results<Ok<ApiEnvelope<CreatedTokenView>>, JsonHttpResult<ApiEnvelope<object>>>> CreateAsync(
        ControlPlaneDbContext db, Audit audit, UnitOfWork work, string accountId, TokenRequest request, DateTime now, CancellationToken cancellationToken)
    {
        var zoneIds = await OwnZonesNamedAsync(db, accountId, request, cancellationToken);
        if (Issue(accountId, request, zoneIds, now, out var problem) is not var (token, secret))
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, problem!);
        }

        db.ApiTokens.Add(token);
        var view = TokenView.From(token, now);
        audit.Record("token.create", "api_token", token.Id, accountId, null, view);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(WithValue(view, secret));
    }

    public static CreatedTokenView WithValue(TokenView view, string secret) =>
        new(view.Id, view.Name, view.Status, view.IssuedOn, view.ModifiedOn, view.LastUsedOn, view.NotBefore, view.ExpiresOn, view.Policies, view.Condition, secret);
}
