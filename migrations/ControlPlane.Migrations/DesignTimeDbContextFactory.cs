using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ControlPlane.Migrations;

/// <summary>
/// Lets <c>dotnet ef</c> build the context without a running database: adding a
/// migration only needs the model, so a placeholder connection string will do.
/// </summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ControlPlaneDbContext>
{
    public ControlPlaneDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<ControlPlaneDbContext>();
        ControlPlaneDbContext.Configure(options,
            Environment.GetEnvironmentVariable("ConnectionStrings__ControlPlane") ?? "Host=127.0.0.1;Database=design_time");
        return new ControlPlaneDbContext(options.Options);
    }
}
