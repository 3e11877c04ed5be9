using ControlPlane.Api.Data;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Tests;

/// <summary>Tenancy that fails closed: every tenant-owned entity is filtered, and an unset scope sees nothing.</summary>
public sealed class TenantModelTests
{
    [Fact]
    public void EveryTenantOwnedEntity_CarriesTheTenantFilter()
    {
        using var db = new ControlPlaneDbContext(Options("Host=127.0.0.1;Database=model-only").Options);

        var owned = TenantModel.TenantOwned(db.Model).Select(e => e.ClrType).ToList();

        Assert.Equal(
            [typeof(Account), typeof(ApiToken), typeof(AuditLogEntry), typeof(DashboardSession), typeof(EdgeAddressAllocation), typeof(TrafficHour), typeof(TrafficMinute), typeof(Zone)],
            owned.OrderBy(t => t.Name, StringComparer.Ordinal));
        Assert.Empty(TenantModel.MissingTenantFilter(db.Model));
        Assert.InRange(TenantModel.AllowList.Count, 0, 3);
    }

    [Fact]
    public void AModelThatForgetsTheFilter_FailsTheCheck()
    {
        using var broken = new BrokenContext();

        var missing = TenantModel.MissingTenantFilter(broken.Model).Select(e => e.ClrType.Name).Order(StringComparer.Ordinal);

        // Widget has an AccountId and no filter; Part reaches it through a foreign key.
        Assert.Equal(["Part", "Widget"], missing);
    }

    [Fact]
    public async Task AQueryFromAScopeWhoseTenantWasNeverSet_Throws_InsteadOfSeeingEveryAccount()
    {
        await using var database = await TestDatabase.CreateMigratedAsync();
        await using var unset = new ControlPlaneDbContext(Options(database.ConnectionString).Options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => unset.Zones.CountAsync());

        Assert.Contains("tenant was never set", error.Message, StringComparison.Ordinal);
        // Tables outside tenancy stay readable (the dispatcher's change log, say).
        Assert.Equal(0, await unset.ChangeLog.CountAsync());
    }

    private static DbContextOptionsBuilder<ControlPlaneDbContext> Options(string connectionString)
    {
        var options = new DbContextOptionsBuilder<ControlPlaneDbContext>();
        ControlPlaneDbContext.Configure(options, connectionString);
        return options;
    }

    private sealed class Widget
    {
        public int Id { get; init; }
        public required string AccountId { get; init; }
    }

    private sealed class Part
    {
        public int Id { get; init; }
        public int WidgetId { get; init; }
    }

    private sealed class Filtered
    {
        public int Id { get; init; }
        public required string AccountId { get; init; }
    }

    /// <summary>A deliberately broken model: two tenant-owned entities without the tenant filter.</summary>
    private sealed class BrokenContext : DbContext
    {
        protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) => optionsBuilder.UseNpgsql("Host=127.0.0.1;Database=model-only");

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Widget>();
            modelBuilder.Entity<Part>().HasOne<Widget>().WithMany().HasForeignKey(p => p.WidgetId);
            modelBuilder.Entity<Filtered>().HasQueryFilter(QueryFilters.Tenant, f => f.AccountId == "a");
        }
    }
}
