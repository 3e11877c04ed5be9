using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Data;

/// <summary>
/// All control-plane state in Postgres. Customer objects carry a query filter on the
/// request's tenant (<see cref="RequestTenant"/>): another account's zones, tokens and
/// audit entries do not exist for a customer query.
/// </summary>
/// <remarks>
/// Migrations live in <c>migrations/ControlPlane.Migrations</c>. To add one, from the repository root:
/// <code>dotnet ef migrations add &lt;Name&gt; --project migrations/ControlPlane.Migrations --output-dir Migrations</code>
/// The API never migrates on start; <c>dotnet run --project migrations/ControlPlane.Migrations</c> does.
/// </remarks>
public sealed class ControlPlaneDbContext(DbContextOptions<ControlPlaneDbContext> options, RequestTenant tenant) : DbContext(options)
{
    public const string MigrationsAssembly = "ControlPlane.Migrations";

    public DbSet<EdgeAgentStatus> EdgeAgentStatuses => Set<EdgeAgentStatus>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<Zone> Zones => Set<Zone>();
    public DbSet<AddressPool> AddressPools => Set<AddressPool>();
    public DbSet<EdgeAddressAllocation> EdgeAddresses => Set<EdgeAddressAllocation>();
    public DbSet<DataCenter> DataCenters => Set<DataCenter>();
    public DbSet<ChangeLogEntry> ChangeLog => Set<ChangeLogEntry>();
    public DbSet<RevisionSequencer> RevisionSequencer => Set<RevisionSequencer>();
    public DbSet<AuditLogEntry> AuditLogs => Set<AuditLogEntry>();
    public DbSet<TrafficMinute> TrafficMinutes => Set<TrafficMinute>();
    public DbSet<TrafficHour> TrafficHours => Set<TrafficHour>();
    public DbSet<TrafficReport> TrafficReports => Set<TrafficReport>();

    /// <summary>The one place the provider is configured, shared by the API and the migrations program.</summary>
    public static void Configure(DbContextOptionsBuilder options, string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:ControlPlane is not set.");
        }

        options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly))
            .UseSnakeCaseNamingConvention();
    }

    /// <summary>The caller's account, or null for operator and system work, which sees every account.</summary>
    private string? TenantAccountId => tenant.AccountId;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ControlPlaneDbContext).Assembly);
        modelBuilder.Entity<Zone>().HasQueryFilter(z => z.DeletedOn == null && (TenantAccountId == null || z.AccountId == TenantAccountId));
        modelBuilder.Entity<ApiToken>().HasQueryFilter(t => TenantAccountId == null || t.AccountId == TenantAccountId);
        modelBuilder.Entity<AuditLogEntry>().HasQueryFilter(a => TenantAccountId == null || a.AccountId == TenantAccountId);
    }
}
