using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;

namespace ControlPlane.Api.Features.Zones;

public sealed record AccountRef(string Id, string Name);

public sealed record OwnerRef(string? Id, string Name, string Type);

public sealed record PlanView(string Id, string Name, decimal Price, string Currency, string Frequency, bool IsSubscribed, bool CanSubscribe, string LegacyId, bool LegacyDiscount, bool ExternallyManaged)
{
    public static PlanView Free { get; } = new("0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "Free Website", 0, "USD", "", false, false, "free", false, false);
}

public sealed record ZoneMeta(int Step, int CustomCertificateQuota, int PageRuleQuota, bool PhishingDetected);

/// <summary>Our own addition to the zone object: the addresses dedicated to it at the edge.</summary>
public sealed record EdgeAddresses(string? Ipv4, string? Ipv6);

/// <summary>
/// The zone object, field for field as Cloudflare clients parse it, plus our edge fields.
/// <c>name</c> is the Unicode form (Cloudflare returns internationalised names so).
/// </summary>
public sealed record ZoneView(
    string Id,
    string Name,
    string Status,
    bool Paused,
    string Type,
    int DevelopmentMode,
    IReadOnlyList<string> NameServers,
    IReadOnlyList<string>? OriginalNameServers,
    string? OriginalRegistrar,
    string? OriginalDnshost,
    DateTime CreatedOn,
    DateTime ModifiedOn,
    DateTime ActivatedOn,
    AccountRef Account,
    OwnerRef Owner,
    PlanView Plan,
    ZoneMeta Meta,
    IReadOnlyList<string> Permissions,
    EdgeAddresses EdgeAddresses,
    long Revision)
{
    public static ZoneView From(Zone zone) => new(
        zone.Id,
        zone.NameUnicode is { Length: > 0 } unicode ? unicode : ZoneNames.ToUnicode(zone.Name),
        "active",
        zone.Paused,
        zone.Type,
        0,
        [],
        null,
        null,
        null,
        zone.CreatedOn,
        zone.ModifiedOn,
        zone.CreatedOn,
        new AccountRef(zone.AccountId, zone.Account?.Name ?? ""),
        new OwnerRef(null, zone.Account?.Name ?? "", "organization"),
        PlanView.Free,
        new ZoneMeta(2, 0, 3, false),
        [],
        new EdgeAddresses(zone.Addresses.FirstOrDefault(a => !a.IsV6)?.Address, zone.Addresses.FirstOrDefault(a => a.IsV6)?.Address),
        zone.Revision);
}

/// <summary>
/// One zone setting, as <c>GET /zones/{id}/settings/{setting}</c> returns it. Our addition:
/// <c>rollout</c>, the per-DC summary, and <c>plaintext_connections_24h</c>, the zone's plaintext
/// connection attempts over the last day, on the setting's own GET (null elsewhere).
/// </summary>
public sealed record SettingView(string Id, string Value, bool Editable, DateTime ModifiedOn, RolloutSummary? Rollout = null, [property: System.Text.Json.Serialization.JsonPropertyName("plaintext_connections_24h")] long? PlaintextConnections24h = null)
{
    public const string DisableHttpPorts = "disable_http_ports";

    public static SettingView From(Zone zone) =>
        new(DisableHttpPorts, zone.HttpPortsClosed ? "on" : "off", true, zone.SettingModifiedOn);
}
