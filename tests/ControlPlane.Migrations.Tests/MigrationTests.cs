using System.Diagnostics;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

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

    [Fact]
    public async Task OldFormTokenPolicies_SeededAtThePreviousMigration_ReadBackThroughTheNewMapping()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var db = database.CreateContext();
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261128003340_PlaintextTraffic");
        // The stored form before: .NET's default JSON (PascalCase), two policies, order kept.
        const string oldForm = """
            [{"Id":"p1","Effect":"allow","PermissionGroupIds":["g1","g2"],"Resources":["com.cloudflare.api.account.a0000000000000000000000000000001"]},
             {"Id":"p2","Effect":"deny","PermissionGroupIds":["g3"],"Resources":["com.cloudflare.api.account.zone.z1"]}]
            """;
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO accounts (id, name, created_on) VALUES ('a0000000000000000000000000000001', 'old', now());
            INSERT INTO api_tokens (id, account_id, name, secret_hash, policies, issued_on, modified_on)
            VALUES ('t0000000000000000000000000000001', 'a0000000000000000000000000000001', 'old', '\x01'::bytea, {oldForm}::jsonb, now(), now());
            """);

        await migrator.MigrateAsync();

        var token = await db.ApiTokens.AsNoTracking().SingleAsync();
        Assert.Equal(["p1", "p2"], token.Policies.Select(p => p.Id));
        Assert.Equal(["allow", "deny"], token.Policies.Select(p => p.Effect));
        Assert.Equal(["g1", "g2"], token.Policies[0].PermissionGroupIds);
        Assert.Equal(["com.cloudflare.api.account.zone.z1"], token.Policies[1].Resources);
        // Stored in the wire form now, like every other typed jsonb column.
        var stored = (await db.Database.SqlQuery<string>($"SELECT policies::text AS \"Value\" FROM api_tokens").ToListAsync()).Single();
        Assert.Contains("\"permissionGroupIds\"", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\"PermissionGroupIds\"", stored, StringComparison.Ordinal);
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
