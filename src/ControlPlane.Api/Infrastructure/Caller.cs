using ControlPlane.Api.Data;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Who is calling, for this request: the customer token (with its policies) or the
/// operator. Set once by authentication; handlers ask it for permissions and the audit
/// log reads the actor from it.
/// </summary>
public sealed class Caller
{
    public ApiToken? Token { get; private set; }

    public bool IsOperator { get; private set; }

    public string AccountId => Token?.AccountId ?? throw new InvalidOperationException("No customer token on this request.");

    public void SetToken(ApiToken token) => Token = token;

    public void SetOperator() => IsOperator = true;

    /// <summary>True when the token may use <paramref name="permission"/> on the zone, or account-wide when no zone is given.</summary>
    public bool Can(PermissionGroup permission, string? zoneId = null)
    {
        if (Token is null)
        {
            return false;
        }

        var account = Permissions.AccountResource(Token.AccountId);
        var zone = zoneId is null ? null : Permissions.ZoneResource(zoneId);
        var applies = Token.Policies
            .Where(p => p.PermissionGroupIds.Any(id => Permissions.Grants(id, permission))
                        && p.Resources.Any(r => r == account || (zone is not null && r == zone)))
            .ToList();
        return applies.Any(p => p.Effect == "allow") && !applies.Any(p => p.Effect == "deny");
    }

    /// <summary>Zones the token may use the permission on: null means every zone of the account.</summary>
    public IReadOnlySet<string>? ZonesWith(PermissionGroup permission)
    {
        if (Can(permission))
        {
            return null;
        }

        var prefix = Permissions.ZoneResource("");
        return Token?.Policies
            .SelectMany(p => p.Resources)
            .Where(r => r.StartsWith(prefix, StringComparison.Ordinal))
            .Select(r => r[prefix.Length..])
            .Where(z => Can(permission, z))
            .ToHashSet(StringComparer.Ordinal) ?? [];
    }
}
