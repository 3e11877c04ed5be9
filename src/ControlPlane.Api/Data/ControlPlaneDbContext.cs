using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Data;

/// <summary>All control-plane state in Postgres.</summary>
/// <remarks>
/// Migrations live in <c>migrations/ControlPlane.Migrations</c>. To add one, from the repository root:
/// <code>dotnet ef migrations add &lt;Name&gt; --project migrations/ControlPlane.Migrations --output-dir Migrations</code>
/// The API never migrates on start; <c>dotnet run --project migrations/ControlPlane.Migrations</c> does.
/// </remarks>
public sealed class ControlPlaneDbContext(DbContextOptions<ControlPlaneDbContext> options) : DbContext(options)
{
    public const string MigrationsAssembly = "ControlPlane.Migrations";

    public DbSet<EdgeAgentStatus> EdgeAgentStatuses => Set<EdgeAgentStatus>();

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

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ControlPlaneDbContext).Assembly);
}
