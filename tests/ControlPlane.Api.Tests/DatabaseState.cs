using Npgsql;

namespace ControlPlane.Api.Tests;

/// <summary>
/// What a refused request must leave as it was, read straight from Postgres: the row count of
/// every table and the change log's highest revision. Failed writes are audited by design
/// (docs/api.md, "Failed writes are audited"), so audit entries with <c>action_result = false</c>
/// are left out of the count; successful ones are counted like any other row.
/// </summary>
public sealed record DatabaseState(IReadOnlyDictionary<string, long> Rows, long Revision)
{
    public static async Task<DatabaseState> ReadAsync(NpgsqlConnection connection)
    {
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(tables);
        var counts = tables.Select(t => t == "audit_logs"
            ? "SELECT 'audit_logs (action_result = true)', count(*) FROM audit_logs WHERE action_result"
            : $"SELECT '{t}', count(*) FROM \"{t}\"");
        var sql = string.Join(" UNION ALL ", counts) + " UNION ALL SELECT 'max(change_log.revision)', coalesce(max(revision), 0) FROM change_log";
        var rows = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(sql, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        var revision = rows["max(change_log.revision)"];
        rows.Remove("max(change_log.revision)");
        return new DatabaseState(rows, revision);
    }

    /// <summary>The differences from an earlier state, one line each; empty when nothing changed.</summary>
    public IReadOnlyList<string> ChangesSince(DatabaseState before)
    {
        var changes = Rows.Where(r => before.Rows.GetValueOrDefault(r.Key) != r.Value)
            .Select(r => $"{r.Key}: {before.Rows.GetValueOrDefault(r.Key)} -> {r.Value} rows").ToList();
        if (Revision != before.Revision)
        {
            changes.Add($"change log revision: {before.Revision} -> {Revision}");
        }

        return changes;
    }
}
