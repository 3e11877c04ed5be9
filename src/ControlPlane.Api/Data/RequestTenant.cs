namespace ControlPlane.Api.Data;

/// <summary>
/// The account the current request acts for, set once by token authentication. The
/// DbContext filters customer objects on it, so a handler cannot forget tenant scoping.
/// </summary>
public sealed class RequestTenant
{
    public string? AccountId { get; private set; }

    public void Set(string accountId)
    {
        if (AccountId is not null && AccountId != accountId)
        {
            throw new InvalidOperationException("The tenant of a request cannot change.");
        }

        AccountId = accountId;
    }
}
