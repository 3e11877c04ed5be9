using System.Globalization;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Tokens;
using ControlPlane.Api.Infrastructure;

namespace ControlPlane.Api.Features.Dashboard;

/// <summary>
/// The tokens pages' text: how a <see cref="TokenView"/> reads in a table cell, and how the
/// create and edit forms' text fields become the parts of a <see cref="TokenRequest"/>. The rules
/// (what a valid prefix or policy is) stay with the API's validator and handlers.
/// </summary>
public static class TokenText
{
    /// <summary>
    /// The zones whose names the tokens pages may show or look up: those the signed-in token may
    /// read (Zone Read), as <c>GET /zones</c> would list them. Other zones appear by id only.
    /// </summary>
    public static IQueryable<Zone> Readable(IQueryable<Zone> zones, Caller caller)
    {
        if (caller.ZonesWith(Permissions.ZoneRead) is not { } readable)
        {
            return zones;
        }

        // A list, which EF Core sends as one array parameter.
        var ids = readable.ToList();
        return zones.Where(z => ids.Contains(z.Id));
    }

    /// <summary>Separators accepted between list entries in a text field: newlines, commas, spaces.</summary>
    private static readonly char[] Separators = ['\n', '\r', ',', ' ', '\t', ';'];

    /// <summary>The entries of a free-text list (one per line, or separated by commas or spaces); empty when there are none.</summary>
    public static List<string> Entries(string? text) =>
        (text ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// <c>condition.request_ip</c> from the two text fields, or null when both are empty (no
    /// condition). The entries are not checked here: the API's validator refuses anything that is
    /// not an IPv4 or IPv6 address or CIDR prefix.
    /// </summary>
    public static TokenCondition? Condition(string? allowed, string? denied)
    {
        var inList = Entries(allowed);
        var notIn = Entries(denied);
        return inList.Count == 0 && notIn.Count == 0
            ? null
            : new TokenCondition(new RequestIpCondition(inList.Count > 0 ? inList : null, notIn.Count > 0 ? notIn : null));
    }

    /// <summary>The token's <c>condition.request_ip</c>, or null when it has none.</summary>
    public static RequestIpCondition? RequestIp(TokenView token) => (token.Condition as TokenCondition)?.RequestIp;

    /// <summary>The IP condition in one line, such as <c>in 192.0.2.0/24; not in 192.0.2.7</c>, or "any address".</summary>
    public static string DescribeCondition(TokenView token)
    {
        var ip = RequestIp(token);
        var parts = new List<string>();
        if (ip?.In is { Count: > 0 } inList)
        {
            parts.Add("in " + string.Join(", ", inList));
        }

        if (ip?.NotIn is { Count: > 0 } notIn)
        {
            parts.Add("not in " + string.Join(", ", notIn));
        }

        return parts.Count == 0 ? "any address" : string.Join("; ", parts);
    }

    /// <summary>The names of the token's permission groups, each once, in the API's order of groups.</summary>
    public static IReadOnlyList<string> GroupNames(TokenView token)
    {
        var held = token.Policies.SelectMany(p => p?.PermissionGroups ?? []).Select(g => g?.Id).ToHashSet(StringComparer.Ordinal);
        return Permissions.All.Where(g => held.Contains(g.Id)).Select(g => g.Name).ToList();
    }

    /// <summary>The zone ids the token's policies name as resources (empty for an account-wide token).</summary>
    public static IReadOnlyList<string> ZoneIds(TokenView token)
    {
        var prefix = Permissions.ZoneResource("");
        return token.Policies.SelectMany(p => p?.Resources?.Keys ?? Enumerable.Empty<string>())
            .Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r[prefix.Length..]).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>True when a policy of the token names the whole account as its resource (every zone, present and future).</summary>
    public static bool AccountWide(TokenView token, string accountId) =>
        token.Policies.Any(p => p?.Resources?.ContainsKey(Permissions.AccountResource(accountId)) == true);

    /// <summary>
    /// The zone scope in words: "all zones of the account", or the zones' names (an id that names
    /// no live zone of the account is shown as the id, marked deleted); account-level groups such
    /// as API Tokens Write always apply to the whole account.
    /// </summary>
    /// <remarks>A zone missing from <paramref name="zoneNames"/> (deleted, or not readable with the signed-in token) is shown by its id.</remarks>
    public static string DescribeScope(TokenView token, string accountId, IReadOnlyDictionary<string, string> zoneNames)
    {
        var zones = ZoneIds(token).Select(id => zoneNames.TryGetValue(id, out var name) ? name : "zone " + id).ToList();
        if (AccountWide(token, accountId))
        {
            return zones.Count == 0 ? "all zones of the account" : "all zones of the account, and " + string.Join(", ", zones);
        }

        return zones.Count == 0 ? "the account only" : string.Join(", ", zones);
    }

    /// <summary>
    /// The policies of a new token: zone groups on every zone of the account (the account as the
    /// resource) or on the given zone ids; account groups (API Tokens Write, Audit Logs Read) on the
    /// account, in a policy of their own when the zone groups are limited to zones. Group ids the
    /// API does not know are passed on for its validator to refuse.
    /// </summary>
    public static List<PolicyModel?> Policies(string accountId, IReadOnlyCollection<string> groupIds, IReadOnlyCollection<string>? zoneIds)
    {
        var account = new Dictionary<string, string?> { [Permissions.AccountResource(accountId)] = "*" };
        var groups = groupIds.Select(id => new PermissionGroupRef(id, Permissions.Find(id)?.Name)).ToList();
        if (zoneIds is null || groups.Count == 0)
        {
            return [new PolicyModel(null, "allow", groups.ToList<PermissionGroupRef?>(), account)];
        }

        var zoneGroups = groups.Where(g => Permissions.Find(g.Id)?.Scope != Permissions.AccountScope).ToList<PermissionGroupRef?>();
        var accountGroups = groups.Where(g => Permissions.Find(g.Id)?.Scope == Permissions.AccountScope).ToList<PermissionGroupRef?>();
        var policies = new List<PolicyModel?>();
        if (zoneGroups.Count > 0)
        {
            policies.Add(new PolicyModel(null, "allow", zoneGroups, zoneIds.ToDictionary(Permissions.ZoneResource, _ => (string?)"*")));
        }

        if (accountGroups.Count > 0)
        {
            policies.Add(new PolicyModel(null, "allow", accountGroups, account));
        }

        return policies;
    }

    /// <summary>
    /// An expiry typed in a <c>datetime-local</c> field (<c>yyyy-MM-ddTHH:mm</c>, read as UTC);
    /// null with <paramref name="valid"/> true when the field is empty, null with it false when the
    /// text is not a date and time.
    /// </summary>
    public static DateTime? Expiry(string? text, out bool valid)
    {
        valid = true;
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        valid = DateTime.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when);
        return valid ? when : null;
    }

    /// <summary>A UTC time as the pages show it, such as <c>2025-06-01 14:03 UTC</c>; "never" for null.</summary>
    public static string Time(DateTime? utc) =>
        utc is { } value ? value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC" : "never";
}
