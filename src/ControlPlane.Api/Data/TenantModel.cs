using Microsoft.EntityFrameworkCore.Metadata;

namespace ControlPlane.Api.Data;

/// <summary>
/// Which entities of a model belong to a tenant, and which of those lack the tenant filter.
/// An entity is tenant-owned when it is the tenant itself (<see cref="Account"/>), has an
/// <c>AccountId</c> or a <c>ZoneId</c> (zones are tenant-owned), or has a foreign key to a
/// tenant-owned entity. Takes any <see cref="IModel"/>, so a test can show it catches a
/// model that forgot a filter.
/// </summary>
public static class TenantModel
{
    /// <summary>
    /// Tenant-owned entities allowed without the tenant filter, each with its reason. At
    /// most three.
    /// </summary>
    public static readonly IReadOnlyDictionary<Type, string> AllowList = new Dictionary<Type, string>
    {
        [typeof(DashboardSession)] = "system-owned: the dashboard's session store reads a session by its random id before the request's tenant is known, as token authentication reads tokens",
    };

    public static IReadOnlyList<IEntityType> TenantOwned(IModel model)
    {
        var owned = new HashSet<IEntityType>();
        bool changed;
        do
        {
            changed = false;
            foreach (var entity in model.GetEntityTypes().Where(e => !owned.Contains(e)))
            {
                if (entity.ClrType == typeof(Account)
                    || entity.FindProperty("AccountId") is not null
                    || entity.FindProperty("ZoneId") is not null
                    || entity.GetForeignKeys().Any(fk => owned.Contains(fk.PrincipalEntityType)))
                {
                    changed |= owned.Add(entity);
                }
            }
        }
        while (changed);

        return owned.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Tenant-owned entities without a query filter named <see cref="QueryFilters.Tenant"/>, minus the allow-list.</summary>
    public static IReadOnlyList<IEntityType> MissingTenantFilter(IModel model) =>
        TenantOwned(model)
            .Where(e => e.FindDeclaredQueryFilter(QueryFilters.Tenant) is null && !AllowList.ContainsKey(e.ClrType))
            .ToList();
}
