using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ControlPlane.Api.Data;

/// <summary>
/// All control-plane state in Postgres. Every tenant-owned entity carries the named
/// <c>tenant</c> query filter on the scope's tenant (<see cref="RequestTenant"/>): another
/// account's zones, tokens, addresses, traffic and audit entries do not exist for a customer
/// query, and a query from a scope whose tenant was never set throws. A model test
/// (<see cref="TenantModel"/>) keeps every tenant-owned entity filtered.
/// </summary>
/// <remarks>
/// Migrations live in <c>migrations/ControlPlane.Migrations</c>. To add one, from the repository root:
/// <code>dotnet ef migrations add &lt;Name&gt; --project migrations/ControlPlane.Migrations --output-dir Migrations</code>
/// The API never migrates on start; <c>dotnet run --project migrations/ControlPlane.Migrations</c> does.
/// </remarks>
public sealed class ControlPlaneDbContext(DbContextOptions<ControlPlaneDbContext> options) : DbContext(options), IDataProtectionKeyContext
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
    public DbSet<DashboardSession> DashboardSessions => Set<DashboardSession>();

    /// <summary>ASP.NET Core Data Protection's key ring, shared by every replica (dashboard cookies and antiforgery).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>Connections per replica when the connection string leaves Npgsql's default (100): 32.</summary>
    public const int DefaultMaxPoolSize = 32;

    private const int NpgsqlDefaultMaxPoolSize = 100;

    /// <summary>The one place the provider is configured, shared by the API and the migrations program.</summary>
    public static void Configure(DbContextOptionsBuilder options, string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:ControlPlane is not set.");
        }

        // The API runs the same few queries all day: let Npgsql prepare them after their second
        // use, so Postgres plans each once per connection (planning was most of a zone read).
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // Npgsql's default pool of 100 lets one replica under a burst take every connection a
        // default Postgres allows (max_connections = 100), and each new backend costs the database
        // a fork: past a point, more connections make every request slower. A bounded pool queues
        // the burst in the API instead. A connection string that names another size keeps it.
        if (builder.MaxPoolSize == NpgsqlDefaultMaxPoolSize)
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        // Pooled connections keep no session state worth resetting (LISTEN and advisory locks
        // live on dedicated unpooled connections), so skip the reset round of every checkout.
        builder.NoResetOnClose = true;

        options
            .UseNpgsql(builder.ConnectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly))
            .UseSnakeCaseNamingConvention();
    }

    /// <summary>
    /// Whom this context works for. Contexts are pooled, so the API sets it on every lease
    /// (<see cref="ScopedContextFactory"/>) to the DI scope's <see cref="RequestTenant"/>; a
    /// context made by hand gets one the same way. Unset, tenant-owned queries throw.
    /// </summary>
    public RequestTenant Tenant { get; set; } = new();

    /// <summary>The customer's account; throws while the scope's tenant is unset (see <see cref="RequestTenant"/>).</summary>
    private string? TenantAccountId => Tenant.FilterAccountId;

    /// <summary>Operator and system scopes see every account; throws while unset.</summary>
    private bool EveryAccount => Tenant.SeesEveryAccount;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ControlPlaneDbContext).Assembly);

        // Tenant-owned entities (TenantModel.TenantOwned says which): each carries the tenant filter.
        modelBuilder.Entity<Account>().HasQueryFilter(QueryFilters.Tenant, a => EveryAccount || a.Id == TenantAccountId);
        modelBuilder.Entity<Zone>().HasQueryFilter(QueryFilters.Tenant, z => EveryAccount || z.AccountId == TenantAccountId);
        modelBuilder.Entity<ApiToken>().HasQueryFilter(QueryFilters.Tenant, t => EveryAccount || t.AccountId == TenantAccountId);
        modelBuilder.Entity<AuditLogEntry>().HasQueryFilter(QueryFilters.Tenant, a => EveryAccount || a.AccountId == TenantAccountId);
        modelBuilder.Entity<EdgeAddressAllocation>().HasQueryFilter(QueryFilters.Tenant, a => EveryAccount || a.AccountId == TenantAccountId);
        modelBuilder.Entity<TrafficMinute>().HasQueryFilter(QueryFilters.Tenant, t => EveryAccount || Zones.Any(z => z.Id == t.ZoneId && z.AccountId == TenantAccountId));
        modelBuilder.Entity<TrafficHour>().HasQueryFilter(QueryFilters.Tenant, t => EveryAccount || Zones.Any(z => z.Id == t.ZoneId && z.AccountId == TenantAccountId));

        // Soft delete is its own filter, so a path that needs deleted zones bypasses only it.
        modelBuilder.Entity<Zone>().HasQueryFilter(QueryFilters.SoftDelete, z => z.DeletedOn == null);
    }
}

/// <summary>The names of the model's query filters, for <c>IgnoreQueryFilters([…])</c>.</summary>
public static class QueryFilters
{
    /// <summary>Limits tenant-owned entities to the customer's account (see <see cref="RequestTenant"/>).</summary>
    public const string Tenant = "tenant";

    /// <summary>Hides deleted zones.</summary>
    public const string SoftDelete = "soft_delete";
}

/// <summary>
/// Leases a context from the pool for the DI scope and hands it the scope's tenant. Pooling
/// keeps EF from building options and its internal services for every request, which was
/// a quarter of a zone read's CPU (see docs/benchmarks-api.md).
/// </summary>
public sealed class ScopedContextFactory(IDbContextFactory<ControlPlaneDbContext> pool, RequestTenant tenant)
{
    public ControlPlaneDbContext CreateDbContext()
    {
        var context = pool.CreateDbContext();
        context.Tenant = tenant;
        return context;
    }
}
