using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Api.Data;

/// <summary>A tenant. Every customer object belongs to exactly one account.</summary>
public sealed class Account
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public DateTime CreatedOn { get; init; }
}

/// <summary>
/// An account API token. Only the SHA-256 of the secret is stored; the secret is shown
/// once, when the token is created or rolled.
/// </summary>
public sealed class ApiToken
{
    public required string Id { get; init; }
    public required string AccountId { get; init; }
    public required string Name { get; set; }
    public required byte[] SecretHash { get; set; }
    public List<TokenPolicy> Policies { get; set; } = [];
    public DateTime? NotBefore { get; set; }
    public DateTime? ExpiresOn { get; set; }
    public DateTime IssuedOn { get; init; }
    public DateTime ModifiedOn { get; set; }
    public DateTime? LastUsedOn { get; set; }
    public DateTime? RevokedOn { get; set; }
    public string? RevokedReason { get; set; }

    /// <summary>Where the token may be used from; null or empty means anywhere.</summary>
    public TokenCondition? Condition { get; set; }

    /// <summary>Revokes the token (once: a second revocation keeps the first time and reason).</summary>
    public void Revoke(DateTime now, string reason)
    {
        if (RevokedOn is not null)
        {
            return;
        }

        RevokedOn = now;
        RevokedReason = reason;
        ModifiedOn = now;
    }
}

/// <summary>
/// A token's condition as Cloudflare writes it: <c>{"request_ip":{"in":[…],"not_in":[…]}}</c>,
/// each list of IPv4 or IPv6 addresses or CIDR prefixes (stored in <c>condition</c> jsonb, wire form).
/// </summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record TokenCondition(RequestIpCondition? RequestIp)
{
    /// <summary>
    /// True when a request from <paramref name="client"/> may use the token: inside one of
    /// <c>in</c> when that list is not empty, and inside none of <c>not_in</c>. An IPv4 client
    /// seen as an IPv4-mapped IPv6 address is matched as IPv4.
    /// </summary>
    public bool Allows(System.Net.IPAddress? client)
    {
        if (RequestIp is null)
        {
            return true;
        }

        client = Infrastructure.ClientAddress.Normalize(client);
        if (client is null)
        {
            return false;
        }

        var inside = (List<string>? prefixes) => prefixes?.Any(p => RequestIpCondition.TryParse(p, out var network) && network.Contains(client)) ?? false;
        return (RequestIp.In is not { Count: > 0 } || inside(RequestIp.In)) && !inside(RequestIp.NotIn);
    }
}

/// <summary>The <c>request_ip</c> condition: <c>in</c> and <c>not_in</c> lists of addresses or CIDR prefixes.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record RequestIpCondition(List<string>? In, List<string>? NotIn)
{
    /// <summary>Parses an address (a /32 or /128) or a CIDR prefix whose host bits are zero.</summary>
    public static bool TryParse(string? value, out System.Net.IPNetwork network)
    {
        network = default;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        // A bare address: dotted-quad IPv4 or IPv6 only (IPAddress.TryParse also takes "10" or "0x0a").
        var bare = !value.Contains('/') && (value.Contains(':') || value.Count(c => c == '.') == 3);
        if (bare && System.Net.IPAddress.TryParse(value, out var address))
        {
            network = new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        // A prefix must be written as its network address: 10.0.0.1/8 is a typo, not 10.0.0.0/8.
        return System.Net.IPNetwork.TryParse(value, out network)
            && System.Net.IPAddress.TryParse(value[..value.IndexOf('/')], out var written)
            && written.Equals(network.BaseAddress);
    }
}

/// <summary>One policy of a token (stored with the token, in <c>policies</c> jsonb, wire form).</summary>
public sealed class TokenPolicy
{
    public required string Id { get; init; }
    public required string Effect { get; init; }
    public required List<string> PermissionGroupIds { get; init; }

    /// <summary>Resource keys such as <c>com.cloudflare.api.account.{id}</c> or <c>com.cloudflare.api.account.zone.{id}</c>.</summary>
    public required List<string> Resources { get; init; }
}

/// <summary>A customer zone with its dedicated edge addresses and its one setting.</summary>
public sealed class Zone
{
    public required string Id { get; init; }
    public required string AccountId { get; init; }
    /// <summary>The canonical name: IDNA A-label form (punycode), lowercase; unique among live zones.</summary>
    public required string Name { get; init; }

    /// <summary>The same name in Unicode form, as responses carry it and name filters match it.</summary>
    public string NameUnicode { get; init; } = "";
    public bool Paused { get; set; }
    public string Type { get; set; } = "full";
    public DateTime CreatedOn { get; init; }
    public DateTime ModifiedOn { get; set; }
    public DateTime? DeletedOn { get; set; }

    /// <summary>The <c>disable_http_ports</c> setting: plaintext HTTP ports closed at the edge.</summary>
    public bool HttpPortsClosed { get; set; }
    public DateTime SettingModifiedOn { get; set; }

    /// <summary>The change-log revision that last changed what the edge enforces for this zone.</summary>
    public long Revision { get; set; }

    public Account? Account { get; init; }
    public List<EdgeAddressAllocation> Addresses { get; init; } = [];
}

/// <summary>An operator-defined block of edge addresses that zones get theirs from.</summary>
public sealed class AddressPool
{
    public required string Id { get; init; }
    public required string Cidr { get; init; }
    public bool IsV6 { get; init; }

    /// <summary>Offset (from the pool's first address) of the next never-used address.</summary>
    public long NextOffset { get; set; }

    /// <summary>Number of usable offsets: the network and broadcast addresses of an IPv4 pool are skipped.</summary>
    public long Size { get; init; }
    public DateTime CreatedOn { get; init; }
}

/// <summary>
/// An address handed out from a pool. While a zone holds it, <see cref="ZoneId"/> is set;
/// after the zone is deleted it sits in quarantine until <see cref="ReusableAfter"/>.
/// </summary>
public sealed class EdgeAddressAllocation
{
    public required string Address { get; init; }
    public required string PoolId { get; init; }
    public bool IsV6 { get; init; }
    public string? ZoneId { get; set; }
    public Zone? Zone { get; set; }

    /// <summary>
    /// The account of the zone holding the address (null in quarantine): the tenant filter
    /// reads it directly, so loading a zone's addresses never joins every address to its zone.
    /// </summary>
    public string? AccountId { get; set; }
    public DateTime AllocatedOn { get; set; }
    public DateTime? ReusableAfter { get; set; }
}

/// <summary>A data center with an edge agent. The agent's credential is stored hashed.</summary>
public sealed class DataCenter
{
    public required string Code { get; init; }
    public required string Name { get; set; }
    public required byte[] CredentialHash { get; set; }
    public DateTime CreatedOn { get; init; }
}

/// <summary>
/// One row of the change log: a revision and the full edge state of every zone the
/// transaction changed. Written in the same transaction as the change; it is the outbox.
/// </summary>
public sealed class ChangeLogEntry
{
    public long Revision { get; init; }
    public DateTime CreatedOn { get; init; }

    /// <summary>The full edge state of every zone the transaction changed (jsonb, wire form).</summary>
    public required List<ZoneEdgeState> Zones { get; init; }
    public DateTime? PublishedOn { get; set; }
}

/// <summary>The single row whose update hands out revisions: its row lock orders the commits.</summary>
public sealed class RevisionSequencer
{
    public int Id { get; init; }
    public long LastRevision { get; set; }
}

/// <summary>One audited write.</summary>
public sealed class AuditLogEntry
{
    public required string Id { get; init; }

    /// <summary>The account the write concerned; null for operator actions outside any account.</summary>
    public string? AccountId { get; init; }
    public required string ActionType { get; init; }
    public bool ActionResult { get; init; } = true;
    public required string ActorType { get; init; }
    public string? ActorId { get; init; }
    public string? TokenId { get; init; }
    /// <summary>The client's address (inet); an IPv4 client is stored as IPv4, never IPv4-mapped IPv6.</summary>
    public System.Net.IPAddress? ActorIp { get; init; }
    public required string ResourceType { get; init; }
    public string? ResourceId { get; init; }
    public string? ZoneName { get; init; }

    /// <summary>Where the write was made: <c>UI</c> (a dashboard page) or <c>API</c> (see <see cref="Infrastructure.Audit.InterfaceOf"/>).</summary>
    public required string Interface { get; init; }

    /// <summary>The object before and after the write, as the HTTP API shows it (jsonb; never a secret).</summary>
    public JsonDocument? OldValue { get; init; }
    public JsonDocument? NewValue { get; init; }

    /// <summary>Anything else worth keeping about the write (jsonb), such as the error of a failed one.</summary>
    public JsonDocument? Metadata { get; init; }
    public DateTime When { get; init; }
}
