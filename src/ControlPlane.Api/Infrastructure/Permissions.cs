namespace ControlPlane.Api.Infrastructure;

/// <summary>A permission group, named in Cloudflare's style.</summary>
public sealed record PermissionGroup(string Id, string Name);

/// <summary>The permission groups tokens can hold. Ids are stable: clients store them in policies.</summary>
public static class Permissions
{
    public static readonly PermissionGroup ZoneRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40001", "Zone Read");
    public static readonly PermissionGroup ZoneWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40002", "Zone Write");
    public static readonly PermissionGroup ZoneSettingsRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40003", "Zone Settings Read");
    public static readonly PermissionGroup ZoneSettingsWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40004", "Zone Settings Write");
    public static readonly PermissionGroup AnalyticsRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40005", "Analytics Read");
    public static readonly PermissionGroup TokensWrite = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40006", "API Tokens Write");
    public static readonly PermissionGroup AuditRead = new("5ac1a0e7b5e94bb8a1a8e1d2f3c40007", "Audit Logs Read");

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
