namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// A permission group, named in Cloudflare's style. <paramref name="Scope"/> is the kind of
/// resource it applies to, as Cloudflare lists it (<c>com.cloudflare.api.account</c> or
/// <c>com.cloudflare.api.account.zone</c>).
/// </summary>
public sealed record PermissionGroup(string Id, string Name, string Scope);

/// <summary>The permission groups tokens can hold. Ids are stable: clients store them in policies.</summary>
public static class Permissions
{
    public const string AccountScope = "com.cloudflare.api.account";
    public const string ZoneScope = "com.cloudflare.api.account.zone";

    public static readonly PermissionGroup ZoneRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40001", "Zone Read", ZoneScope);
    public static readonly PermissionGroup ZoneWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40002", "Zone Write", ZoneScope);
    public static readonly PermissionGroup ZoneSettingsRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40003", "Zone Settings Read", ZoneScope);
    public static readonly PermissionGroup ZoneSettingsWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40004", "Zone Settings Write", ZoneScope);
    public static readonly PermissionGroup AnalyticsRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40005", "Analytics Read", ZoneScope);
    public static readonly PermissionGroup TokensWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40006", "API Tokens Write", AccountScope);
    public static readonly PermissionGroup AuditRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40007", "Audit Logs Read", AccountScope);

    public static IReadOnlyList<PermissionGroup> All { get; } =
        [ZoneRead, ZoneWrite, ZoneSettingsRead, ZoneSettingsWrite, AnalyticsRead, TokensWrite, AuditRead];

    public static PermissionGroup? Find(string? id) => All.FirstOrDefault(p => p.Id == id);

    /// <summary>Write implies read, as in Cloudflare.</summary>
    public static bool Grants(string heldId, PermissionGroup wanted) =>
        heldId == wanted.Id
        || (wanted == ZoneRead && heldId == ZoneWrite.Id)
        || (wanted == ZoneSettingsRead && heldId == ZoneSettingsWrite.Id);

    public static string AccountResource(string accountId) => $"com.cloudflare.api.account.{accountId}";

    public static string ZoneResource(string zoneId) => $"com.cloudflare.api.account.zone.{zoneId}";
}
