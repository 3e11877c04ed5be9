using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

// Applies every pending migration to the database named by ConnectionStrings:ControlPlane
// (appsettings.json beside this program, then environment variables such as
// ConnectionStrings__ControlPlane). Run by scripts/up, by the compose "migrate"
// service and by the tests; the API itself never migrates.
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
Console.WriteLine(pending.Count == 0
    ? "Database is up to date."
    : $"Applied {pending.Count} migration(s): {string.Join(", ", pending)}");
