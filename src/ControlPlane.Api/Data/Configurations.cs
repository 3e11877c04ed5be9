using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ControlPlane.Api.Data;

public sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        builder.Property(a => a.Id).HasMaxLength(32);
        builder.Property(a => a.Name).HasMaxLength(200);
    }
}

public sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.Property(t => t.Id).HasMaxLength(32);
        builder.Property(t => t.Name).HasMaxLength(120);
        builder.HasIndex(t => t.SecretHash).IsUnique();
        builder.HasIndex(t => t.AccountId);
        builder.HasOne<Account>().WithMany().HasForeignKey(t => t.AccountId);
        builder.Property(t => t.RevokedReason).HasMaxLength(200);
        builder.Property(t => t.Policies).HasWireJson();
        builder.Property(t => t.Condition).HasWireJson();
    }
}

public sealed class ZoneConfiguration : IEntityTypeConfiguration<Zone>
{
    public void Configure(EntityTypeBuilder<Zone> builder)
    {
        builder.Property(z => z.Id).HasMaxLength(32);
        builder.Property(z => z.Name).HasMaxLength(253);
        builder.Property(z => z.NameUnicode).HasMaxLength(253);
        builder.Property(z => z.Type).HasMaxLength(16);
        // Names are unique among live zones; a deleted zone's name can be added again.
        builder.HasIndex(z => z.Name).IsUnique().HasFilter("deleted_on IS NULL").HasDatabaseName(UniqueLiveZoneName);
        builder.HasIndex(z => new { z.AccountId, z.Name });
        builder.HasOne(z => z.Account).WithMany().HasForeignKey(z => z.AccountId);
        builder.HasMany(z => z.Addresses).WithOne(a => a.Zone).HasForeignKey(a => a.ZoneId);
    }

    public const string UniqueLiveZoneName = "ix_zones_name_live";
}

public sealed class AddressPoolConfiguration : IEntityTypeConfiguration<AddressPool>
{
    public void Configure(EntityTypeBuilder<AddressPool> builder)
    {
        builder.Property(p => p.Id).HasMaxLength(32);
        builder.Property(p => p.Cidr).HasMaxLength(64);
        builder.HasIndex(p => p.Cidr).IsUnique();
    }
}

public sealed class EdgeAddressAllocationConfiguration : IEntityTypeConfiguration<EdgeAddressAllocation>
{
    public void Configure(EntityTypeBuilder<EdgeAddressAllocation> builder)
    {
        builder.ToTable("edge_addresses");
        builder.HasKey(a => a.Address);
        builder.Property(a => a.Address).HasMaxLength(64);
        builder.Property(a => a.AccountId).HasMaxLength(32);
        builder.HasOne<AddressPool>().WithMany().HasForeignKey(a => a.PoolId);
        builder.HasIndex(a => new { a.IsV6, a.ReusableAfter }).HasFilter("zone_id IS NULL");
    }
}

public sealed class DataCenterConfiguration : IEntityTypeConfiguration<DataCenter>
{
    public void Configure(EntityTypeBuilder<DataCenter> builder)
    {
        builder.HasKey(d => d.Code);
        builder.Property(d => d.Code).HasMaxLength(16);
        builder.Property(d => d.Name).HasMaxLength(120);
        builder.HasIndex(d => d.CredentialHash).IsUnique();
    }
}

public sealed class ChangeLogEntryConfiguration : IEntityTypeConfiguration<ChangeLogEntry>
{
    public void Configure(EntityTypeBuilder<ChangeLogEntry> builder)
    {
        builder.ToTable("change_log");
        builder.HasKey(c => c.Revision);
        builder.Property(c => c.Revision).ValueGeneratedNever();
        builder.Property(c => c.Zones).HasWireJson();
        builder.HasIndex(c => c.Revision).HasFilter("published_on IS NULL").HasDatabaseName("ix_change_log_unpublished");
    }
}

public sealed class RevisionSequencerConfiguration : IEntityTypeConfiguration<RevisionSequencer>
{
    public void Configure(EntityTypeBuilder<RevisionSequencer> builder)
    {
        builder.ToTable("revision_sequencer", t => t.HasCheckConstraint("ck_revision_sequencer_single_row", "id = 1"));
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.HasData(new RevisionSequencer { Id = 1, LastRevision = 0 });
    }
}

public sealed class AuditLogEntryConfiguration : IEntityTypeConfiguration<AuditLogEntry>
{
    public void Configure(EntityTypeBuilder<AuditLogEntry> builder)
    {
        builder.ToTable("audit_logs");
        builder.Property(a => a.Id).HasMaxLength(32);
        builder.Property(a => a.OldValue).HasColumnType("jsonb");
        builder.Property(a => a.NewValue).HasColumnType("jsonb");
        builder.Property(a => a.Metadata).HasColumnType("jsonb");
        builder.Property(a => a.Interface).HasMaxLength(8);
        builder.HasIndex(a => new { a.AccountId, a.When });
    }
}
