using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Migrations;

/// <summary>
/// Fills <c>zones.name_unicode</c> for names with an xn-- label, which the ZoneNameUnicode
/// migration could only copy (SQL has no IDNA). Idempotent: it touches only rows whose Unicode
/// name still equals the A-label form.
/// </summary>
internal static class ZoneNameBackfill
{
    public static async Task<int> RunAsync(ControlPlaneDbContext db)
    {
        var rows = await db.Database
            .SqlQueryRaw<ZoneNameRow>("SELECT id AS \"Id\", name AS \"Name\" FROM zones WHERE name_unicode = name AND name LIKE '%xn--%'")
            .ToListAsync();
        var changed = 0;
        foreach (var row in rows)
        {
            var unicode = ZoneNames.ToUnicode(row.Name);
            if (unicode != row.Name)
            {
                changed += await db.Database.ExecuteSqlAsync($"UPDATE zones SET name_unicode = {unicode} WHERE id = {row.Id}");
            }
        }

        return changed;
    }

    internal sealed record ZoneNameRow(string Id, string Name);
}
