using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ControlPlane.Api.Data;

/// <summary>
/// A dashboard sign-in: the server-side half of the session cookie, which carries only
/// <see cref="Id"/>. Signing out deletes the row, so a copied cookie stops working at once.
/// System-owned (on the tenancy allow-list): the session store reads it before anyone knows
/// the tenant, the way token authentication reads tokens.
/// </summary>
public sealed class DashboardSession
{
    /// <summary>64 hex digits of randomness (256 bits); the cookie's only content.</summary>
    public required string Id { get; init; }

    /// <summary>The signed-in token's account; null for the operator.</summary>
    public string? AccountId { get; init; }

    /// <summary>The signed-in API token; null for the operator.</summary>
    public string? TokenId { get; init; }

    /// <summary>SHA-256 of the secret that signed in: a rolled token's old secret no longer matches, so its sessions end.</summary>
    public required byte[] CredentialSha256 { get; init; }

    /// <summary>The serialized authentication ticket (claims and cookie properties; no secret).</summary>
    public required byte[] Ticket { get; set; }

    public DateTime CreatedOn { get; init; }

    /// <summary>When the session ends unless renewed by use.</summary>
    public DateTime ExpiresOn { get; set; }
}

public sealed class DashboardSessionConfiguration : IEntityTypeConfiguration<DashboardSession>
{
    public void Configure(EntityTypeBuilder<DashboardSession> builder)
    {
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.AccountId).HasMaxLength(32);
        builder.Property(s => s.TokenId).HasMaxLength(32);
        builder.HasIndex(s => s.TokenId);
        builder.HasIndex(s => s.ExpiresOn);
    }
}
