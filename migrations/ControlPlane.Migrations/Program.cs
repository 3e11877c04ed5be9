using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace ControlPlane.Migrations;

/// <summary>
/// Applies every pending migration to the database named by ConnectionStrings:ControlPlane
/// (appsettings.json beside this program, then environment variables such as
/// ConnectionStrings__ControlPlane, then the command line). Run by scripts/up, by the
/// compose "migrate" service and by the tests; the API itself never migrates.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();

        var options = new DbContextOptionsBuilder<ControlPlaneDbContext>();
        ControlPlaneDbContext.Configure(options, configuration.GetConnectionString("ControlPlane"));

        await using var db = new ControlPlaneDbContext(options.Options);
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        await db.Database.MigrateAsync();
        var backfilled = await ZoneNameBackfill.RunAsync(db);
        if (backfilled > 0)
        {
            Console.WriteLine($"Filled in the Unicode name of {backfilled} internationalised zone(s).");
        }

        Console.WriteLine(pending.Count == 0
            ? "Database is up to date."
            : $"Applied {pending.Count} migration(s): {string.Join(", ", pending)}");
        return 0;
    }
}
