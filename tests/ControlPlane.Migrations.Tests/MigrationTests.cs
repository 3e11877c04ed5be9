using System.Diagnostics;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Migrations.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task MigrationsProgram_OnEmptyDatabase_AppliesEveryMigration_AndIsIdempotent()
    {
        await using var database = await TestDatabase.CreateAsync();

        var first = await RunMigrationsProgramAsync(database.ConnectionString);
        var second = await RunMigrationsProgramAsync(database.ConnectionString);

        await using var db = database.CreateContext();
        var known = db.Database.GetMigrations().ToList();
        var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.NotEmpty(known);
        Assert.Equal(known, applied);
        Assert.Contains($"Applied {known.Count} migration(s)", first, StringComparison.Ordinal);
        Assert.Contains("Database is up to date.", second, StringComparison.Ordinal);
        // The schema is usable, not just recorded as migrated.
        Assert.Equal(0, await db.EdgeAgentStatuses.CountAsync());
    }

    [Fact]
    public async Task Model_HasNoChangesMissingFromTheMigrations()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var db = database.CreateContext();

        Assert.False(db.Database.HasPendingModelChanges(),
            "The EF model differs from the last migration: add one with dotnet ef migrations add (see README).");
    }

    private static async Task<string> RunMigrationsProgramAsync(string connectionString)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestEnvironment.BuildOutput("migrations/ControlPlane.Migrations"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("ControlPlane.Migrations.dll");
        start.Environment["ConnectionStrings__ControlPlane"] = connectionString;

        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"migrations program failed ({process.ExitCode}): {stderr}");
        return stdout;
    }
}
