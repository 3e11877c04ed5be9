using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Tokens;

public sealed record PermissionGroupRef(string? Id, string? Name);

/// <summary>A policy as Cloudflare writes it: resources map a resource key to "*".</summary>
public sealed record PolicyModel(string? Id, string? Effect, List<PermissionGroupRef>? PermissionGroups, Dictionary<string, string>? Resources);

/// <summary><c>POST /accounts/{id}/tokens</c>.</summary>
public sealed record CreateTokenRequest(string? Name, List<PolicyModel>? Policies, DateTime? NotBefore, DateTime? ExpiresOn);

public sealed class CreateTokenRequestValidator : AbstractValidator<CreateTokenRequest>
{
    public CreateTokenRequestValidator()
    {
        RuleFor(r => r.Name).NotEmpty().MaximumLength(120).WithMessage("name is required (at most 120 characters)");
        RuleFor(r => r.Policies).NotEmpty().WithMessage("policies must hold at least one policy");
        // ChildRules skips a null element, so it is refused before them.
        RuleForEach(r => r.Policies).NotNull().WithMessage("policies must not hold null").ChildRules(policy =>
        {
            policy.RuleFor(p => p.Effect).Must(e => e is "allow" or "deny").WithMessage("policy effect must be 'allow' or 'deny'");
            policy.RuleFor(p => p.PermissionGroups).NotEmpty().WithMessage("a policy needs permission_groups");
            policy.RuleForEach(p => p.PermissionGroups).NotNull().WithMessage("permission_groups must not hold null")
                .Must(g => Permissions.Find(g?.Id) is not null)
                .WithMessage((_, g) => $"unknown permission group '{g?.Id}'");
            policy.RuleFor(p => p.Resources).NotEmpty().WithMessage("a policy needs resources");
            policy.RuleForEach(p => p.Resources).Must(r => r.Value == "*").WithMessage("resource values must be \"*\"");
        });
        RuleFor(r => r).Must(r => r.NotBefore is null || r.ExpiresOn is null || r.NotBefore < r.ExpiresOn)
            .WithName("expires_on").WithMessage("expires_on must be after not_before");
    }
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
    List<PolicyModel> Policies,
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
            p.PermissionGroupIds.Select(id => new PermissionGroupRef(id, Permissions.Find(id)?.Name)).ToList(),
            p.Resources.ToDictionary(r => r, _ => "*"))).ToList(),
        new { });

    /// <summary>Cloudflare's statuses: a revoked token is "disabled".</summary>
    public static string StatusOf(ApiToken token, DateTime now) =>
        token.RevokedOn is not null ? "disabled" : token.ExpiresOn <= now ? "expired" : "active";
}

/// <summary>The one response that carries a secret: the token as created, with its value.</summary>
public sealed record CreatedTokenView(
    string Id, string Name, string Status, DateTime IssuedOn, DateTime ModifiedOn, DateTime? LastUsedOn,
    DateTime? NotBefore, DateTime? ExpiresOn, List<PolicyModel> Policies, object Condition, string Value);

public static class TokenIssuer
{
    public const string SecretPrefix = "cpat_";

    /// <summary>
    /// Builds a token from a validated request. Resources must be this account or its
    /// zones; anything else is refused (the error, or null when fine).
    /// </summary>
    public static (ApiToken Token, string Secret)? Issue(string accountId, CreateTokenRequest request, ISet<string> accountZoneIds, DateTime now, out string? error)
    {
        error = null;
        var policies = new List<TokenPolicy>();
        foreach (var policy in request.Policies!)
        {
            foreach (var resource in policy.Resources!.Keys)
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
            IssuedOn = now,
            ModifiedOn = now,
        };
        return (token, secret);
    }

    /// <summary>Creates, audits and saves a token for the account; the response is the one place its secret appears.</summary>
    public static async Task<Results<Ok<ApiEnvelope<CreatedTokenView>>, JsonHttpResult<ApiEnvelope<object>>>> CreateAsync(
        ControlPlaneDbContext db, Audit audit, UnitOfWork work, string accountId, CreateTokenRequest request, DateTime now, CancellationToken cancellationToken)
    {
        var zoneIds = (await db.Zones.Where(z => z.AccountId == accountId).Select(z => z.Id)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
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
