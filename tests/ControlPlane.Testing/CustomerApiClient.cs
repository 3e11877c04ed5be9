using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ControlPlane.Testing;

/// <summary>
/// Drives the real API over HTTPS the way a customer and an operator would, to set up
/// tenants, tokens and zones for tests. Only public routes are used.
/// </summary>
public sealed class CustomerApiClient(ApiFactory api)
{
    /// <summary>Every permission group id, as the API publishes them.</summary>
    public static readonly string[] AllPermissions =
    [
        "5ac1a0e7b5e94bb8a1a8e1d2f3c40001", "5ac1a0e7b5e94bb8a1a8e1d2f3c40002", "5ac1a0e7b5e94bb8a1a8e1d2f3c40003",
        "5ac1a0e7b5e94bb8a1a8e1d2f3c40004", "5ac1a0e7b5e94bb8a1a8e1d2f3c40005", "5ac1a0e7b5e94bb8a1a8e1d2f3c40006",
        "5ac1a0e7b5e94bb8a1a8e1d2f3c40007",
    ];

    public const string ZoneRead = "5ac1a0e7b5e94bb8a1a8e1d2f3c40001";
    public const string ZoneWrite = "5ac1a0e7b5e94bb8a1a8e1d2f3c40002";
    public const string SettingsRead = "5ac1a0e7b5e94bb8a1a8e1d2f3c40003";
    public const string SettingsWrite = "5ac1a0e7b5e94bb8a1a8e1d2f3c40004";
    public const string TokensWrite = "5ac1a0e7b5e94bb8a1a8e1d2f3c40006";
    public const string AuditRead = "5ac1a0e7b5e94bb8a1a8e1d2f3c40007";

    public HttpClient Operator()
    {
        var client = api.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", api.OperatorToken);
        return client;
    }

    public HttpClient As(string token)
    {
        var client = api.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Adds address pools (documentation ranges) if the database has none yet.</summary>
    public async Task EnsurePoolsAsync(params string[] cidrs)
    {
        using var client = Operator();
        var existing = await ResultAsync(await client.GetAsync("/operator/v1/address_pools"));
        if (existing.GetArrayLength() > 0)
        {
            return;
        }

        foreach (var cidr in cidrs.Length > 0 ? cidrs : ["198.51.100.0/25", "198.51.100.128/25", "2001:db8:100::/64"])
        {
            await ResultAsync(await client.PostAsJsonAsync("/operator/v1/address_pools", new { cidr }));
        }
    }

    /// <summary>A new account and a token for it with every permission, account-wide.</summary>
    public async Task<(string AccountId, string Token)> NewTenantAsync(string name)
    {
        using var client = Operator();
        var account = await ResultAsync(await client.PostAsJsonAsync("/operator/v1/accounts", new { name }));
        var accountId = account.GetProperty("id").GetString()!;
        var token = await IssueTokenAsync(client, $"/operator/v1/accounts/{accountId}/tokens", accountId, AllPermissions);
        return (accountId, token);
    }

    /// <summary>A token with the given permission groups on the given resources (the account by default).</summary>
    public static async Task<string> IssueTokenAsync(HttpClient client, string route, string accountId, string[] permissions,
        string[]? resources = null, DateTime? notBefore = null, DateTime? expiresOn = null)
    {
        var body = new
        {
            name = "test token",
            policies = new[]
            {
                new
                {
                    effect = "allow",
                    permission_groups = permissions.Select(id => new { id }).ToArray(),
                    resources = (resources ?? [$"com.cloudflare.api.account.{accountId}"]).ToDictionary(r => r, _ => "*"),
                },
            },
            not_before = notBefore,
            expires_on = expiresOn,
        };
        var created = await ResultAsync(await client.PostAsJsonAsync(route, body));
        return created.GetProperty("value").GetString()!;
    }

    public static async Task<JsonElement> CreateZoneAsync(HttpClient client, string accountId, string name) =>
        await ResultAsync(await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = accountId }, name }));

    /// <summary>The <c>result</c> of a successful envelope; fails with the body otherwise.</summary>
    public static async Task<JsonElement> ResultAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode} from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}");
        }

        return JsonDocument.Parse(text).RootElement.GetProperty("result").Clone();
    }
}
