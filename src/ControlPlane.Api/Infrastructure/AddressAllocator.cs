using System.Net;
using System.Net.Sockets;
using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Settings of address allocation (section <c>Addresses</c>).</summary>
public sealed class AddressOptions
{
    public const string Section = "Addresses";

    /// <summary>How long a deleted zone's addresses wait before another zone may get them.</summary>
    public TimeSpan Quarantine { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// Hands out dedicated edge addresses from the operator's pools: first an address whose
/// quarantine has ended, else the next never-used address of the oldest pool with room.
/// Row locks on the pool (and SKIP LOCKED on reusable addresses) keep concurrent zone
/// creations from getting the same address.
/// </summary>
public sealed class AddressAllocator(ControlPlaneDbContext db, TimeProvider time, IOptions<AddressOptions> options)
{
    /// <summary>An address for the zone, or null when every pool of that family is exhausted.</summary>
    public async Task<EdgeAddressAllocation?> AllocateAsync(Zone zone, bool v6, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // FOR UPDATE cannot be composed over, so these queries are materialised as written.
        // A free address belongs to no tenant yet: the allocator looks past the tenant filter on purpose.
        var reusable = (await db.EdgeAddresses
            .FromSql($"SELECT * FROM edge_addresses WHERE zone_id IS NULL AND is_v6 = {v6} AND reusable_after <= {now} ORDER BY reusable_after LIMIT 1 FOR UPDATE SKIP LOCKED")
            .IgnoreQueryFilters([QueryFilters.Tenant])
            .ToListAsync(cancellationToken)).SingleOrDefault();
        if (reusable is not null)
        {
            reusable.ZoneId = zone.Id;
            reusable.AccountId = zone.AccountId;
            reusable.AllocatedOn = now;
            reusable.ReusableAfter = null;
            return reusable;
        }

        var pool = (await db.AddressPools
            .FromSql($"SELECT * FROM address_pools WHERE is_v6 = {v6} AND next_offset < size ORDER BY created_on, id LIMIT 1 FOR UPDATE")
            .ToListAsync(cancellationToken)).SingleOrDefault();
        if (pool is null)
        {
            return null;
        }

        var address = AddressAt(pool, pool.NextOffset);
        pool.NextOffset++;
        var allocation = new EdgeAddressAllocation { Address = address, PoolId = pool.Id, IsV6 = v6, ZoneId = zone.Id, AccountId = zone.AccountId, AllocatedOn = now };
        db.EdgeAddresses.Add(allocation);
        return allocation;
    }

    /// <summary>How a pool's addresses are spent: held by a zone, or released and still in quarantine.</summary>
    /// <param name="Allocated">Addresses held by a live zone.</param>
    /// <param name="Quarantined">Addresses released by a deleted zone whose quarantine has not ended.</param>
    public sealed record PoolUsage(long Allocated, long Quarantined)
    {
        /// <summary>Addresses another zone may get now: never used, or out of quarantine.</summary>
        public long Free(long size) => Math.Max(0, size - Allocated - Quarantined);
    }

    /// <summary>
    /// Per pool id, its allocated and quarantined addresses, counted in one SQL query (a pool with
    /// no address handed out yet is absent: all free). Quarantine ends at each address's
    /// <c>reusable_after</c>, set by <see cref="Release"/> to the release time plus
    /// <see cref="AddressOptions.Quarantine"/>.
    /// </summary>
    public async Task<Dictionary<string, PoolUsage>> UsageAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.EdgeAddresses.GroupBy(a => a.PoolId)
            .Select(g => new
            {
                PoolId = g.Key,
                Allocated = g.LongCount(a => a.ZoneId != null),
                Quarantined = g.LongCount(a => a.ZoneId == null && a.ReusableAfter > now),
            })
            .ToDictionaryAsync(u => u.PoolId, u => new PoolUsage(u.Allocated, u.Quarantined), cancellationToken);
    }

    /// <summary>Puts the zone's addresses in quarantine.</summary>
    public void Release(IEnumerable<EdgeAddressAllocation> addresses)
    {
        var reusableAfter = time.GetUtcNow().UtcDateTime + options.Value.Quarantine;
        foreach (var address in addresses)
        {
            address.ZoneId = null;
            address.AccountId = null;
            address.ReusableAfter = reusableAfter;
        }
    }

    /// <summary>Parses a pool CIDR: null with an error when it is not a clean prefix.</summary>
    public static (IPNetwork Network, long Size)? ParsePool(string? cidr, out string error)
    {
        error = "";
        if (cidr is null || !IPNetwork.TryParse(cidr, out var network)
            || !IPAddress.TryParse(cidr.AsSpan(0, Math.Max(0, cidr.IndexOf('/', StringComparison.Ordinal))), out var given)
            || !given.Equals(network.BaseAddress))
        {
            error = $"'{cidr}' is not a CIDR prefix with its host bits zero";
            return null;
        }

        var v6 = network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
        var hostBits = (v6 ? 128 : 32) - network.PrefixLength;
        if (hostBits > 62)
        {
            hostBits = 62;
        }

        // IPv4: skip the network and broadcast addresses of blocks with room for them.
        // IPv6: skip the subnet-router anycast address (the block's first).
        var span = 1L << hostBits;
        var size = v6 ? Math.Max(1, span - 1) : hostBits >= 2 ? span - 2 : span;
        return (network, size);
    }

    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    private static string AddressAt(AddressPool pool, long offset)
    {
        var (network, _) = ParsePool(pool.Cidr, out _)!.Value;
        var bytes = network.BaseAddress.GetAddressBytes();
        var hostBits = (pool.IsV6 ? 128 : 32) - network.PrefixLength;
        var skip = pool.IsV6 || hostBits >= 2 ? 1 : 0;
        var add = (UInt128)(offset + skip);
        for (var i = bytes.Length - 1; i >= 0 && add > 0; i--)
        {
            var sum = bytes[i] + (UInt128)(byte)(add & 0xff);
            bytes[i] = (byte)(sum & 0xff);
            add = (add >> 8) + (sum >> 8);
        }

        return new IPAddress(bytes).ToString();
    }
}
