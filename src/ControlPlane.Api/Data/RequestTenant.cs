namespace ControlPlane.Api.Data;

/// <summary>Whom the work of a DI scope is done for; the DbContext's tenant filter reads it.</summary>
public enum TenantScope
{
    /// <summary>Nobody said: a query on a tenant-owned entity throws rather than see every account.</summary>
    Unset,

    /// <summary>A customer token: tenant-owned entities of its one account only.</summary>
    Customer,

    /// <summary>The operator API: every account, on purpose.</summary>
    Operator,

    /// <summary>The API's own background work (dispatcher, consumers, retention): every account, on purpose.</summary>
    System,
}

/// <summary>
/// The tenant scope of the current request or background unit of work, set once, explicitly:
/// by token authentication (customer), operator authentication (operator), or the code that
/// creates a background scope (system). The DbContext's named <c>tenant</c> query filter
/// reads <see cref="FilterAccountId"/>, which throws while the scope is unset, so a path
/// that forgot to say whom it works for fails closed instead of seeing every account.
/// </summary>
public sealed class RequestTenant
{
    public TenantScope Scope { get; private set; }

    /// <summary>The customer's account; null for the other scopes.</summary>
    public string? AccountId { get; private set; }

    /// <summary>
    /// For the tenant filter: the account a query is limited to, or null for every account
    /// (operator, system). Throws <see cref="InvalidOperationException"/> while unset.
    /// </summary>
    public string? FilterAccountId => Scope switch
    {
        TenantScope.Customer => AccountId,
        TenantScope.Operator or TenantScope.System => null,
        _ => throw new InvalidOperationException(
            "A query on a tenant-owned entity ran in a scope whose tenant was never set; set it to customer, operator or system first."),
    };

    /// <summary>True when a query may see every account (operator or system); throws while unset, like <see cref="FilterAccountId"/>.</summary>
    public bool SeesEveryAccount => FilterAccountId is null;

    public void SetCustomer(string accountId) => Set(TenantScope.Customer, accountId);

    public void SetOperator() => Set(TenantScope.Operator, null);

    public void SetSystem() => Set(TenantScope.System, null);

    private void Set(TenantScope scope, string? accountId)
    {
        if (Scope != TenantScope.Unset && (Scope != scope || AccountId != accountId))
        {
            throw new InvalidOperationException($"The tenant scope cannot change once set (it is {Scope}).");
        }

        Scope = scope;
        AccountId = accountId;
    }
}

/// <summary>Background work (dispatcher, retention, flushes) runs in scopes that say so.</summary>
public static class SystemScope
{
    /// <summary>A DI scope whose tenant scope is <see cref="TenantScope.System"/>.</summary>
    public static AsyncServiceScope CreateSystemScope(this IServiceScopeFactory scopes)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<RequestTenant>().SetSystem();
        return scope;
    }
}
