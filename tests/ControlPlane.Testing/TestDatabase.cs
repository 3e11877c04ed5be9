using ControlPlane.Api.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ControlPlane.Testing;

/// <summary>
/// A database of its own for one test class, dropped afterwards. <see cref="CreateMigratedAsync"/>
/// applies the real migrations, exactly as the migrations program does.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = new TestDatabase("cp_test_" + Guid.NewGuid().ToString("N")[..12]);
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return database;
    }

    public static async Task<TestDatabase> CreateMigratedAsync()
    {
        var database = await CreateAsync();
        await using var db = database.CreateContext();
        await db.Database.MigrateAsync();
        return database;
    }

    public ControlPlaneDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<ControlPlaneDbContext>();
        ControlPlaneDbContext.Configure(options, ConnectionString);
        // Tests look at the whole database, every account: system scope.
        var tenant = new RequestTenant();
        tenant.SetSystem();
        return new ControlPlaneDbContext(options.Options) { Tenant = tenant };
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
