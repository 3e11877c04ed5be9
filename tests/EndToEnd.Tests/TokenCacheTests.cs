using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>
/// Token authentication from memory, across two API replicas on one database: a change made
/// on replica A (revoke, roll, update, expiry) is refused on replica B, whose cache held the token,
/// within the documented bound; and B fails closed while its LISTEN connection is cut.
/// </summary>
[Collection("propagation")]
public sealed class TokenCacheTests
{
    /// <summary>The documented bound is 100 ms (one NOTIFY); this shared 2-core CI machine gets a margin.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    private static readonly string[] RemoteOnly = ["10.0.0.0/8"];

    [Theory]
    [InlineData("revoke")]
    [InlineData("roll")]
    [InlineData("update")]
    public async Task AChangeOnReplicaA_IsRefusedOnReplicaB_WhoseCacheHeldTheToken(string change)
    {
        await using var lab = await PropagationLab.StartAsync();
        await using var b = lab.NewApi();
        var (account, token) = await lab.Customers.NewTenantAsync("Cached");
        using var onA = lab.Customers.As(token);
        using var onB = new CustomerApiClient(b).As(token);
        var tokenId = await WarmAsync(b, onB);

        var response = change switch
        {
            "revoke" => await onA.DeleteAsync($"/client/v4/accounts/{account}/tokens/{tokenId}"),
            "roll" => await onA.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{tokenId}/value", new { }),
            // PUT the token with a condition that excludes loopback: B must refuse it (403, 9109).
            _ => await onA.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{tokenId}", new
            {
                name = "moved",
                policies = new[] { new { effect = "allow", permission_groups = AllPermissions.Select(id => new { id }).ToArray(), resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{account}"] = "*" } } },
                condition = new { request_ip = new { @in = RemoteOnly } },
            }),
        };
        await ResultAsync(response);

        var refusedAfter = await TimeUntilRefusedAsync(onB);
        Assert.True(refusedAfter <= Bound, $"B still accepted the old token {refusedAfter.TotalMilliseconds:F0} ms after the {change} on A");
    }

    [Fact]
    public async Task AnExpiredToken_IsRefusedFromTheCache_WithoutAnyNotification()
    {
        await using var lab = await PropagationLab.StartAsync();
        await using var b = lab.NewApi();
        var (account, _) = await lab.Customers.NewTenantAsync("Expiring");
        using var op = lab.Customers.Operator();
        var expiresOn = DateTime.UtcNow.AddSeconds(3);
        var token = await IssueTokenAsync(op, $"/operator/v1/accounts/{account}/tokens", account, AllPermissions, expiresOn: expiresOn);
        using var onB = new CustomerApiClient(b).As(token);
        await WarmAsync(b, onB);

        while (DateTime.UtcNow < expiresOn)
        {
            await Task.Delay(100);
        }

        // Expiry is checked against the clock on every cached hit.
        var refusedAfter = await TimeUntilRefusedAsync(onB);
        Assert.True(refusedAfter <= Bound, $"B accepted an expired token for {refusedAfter.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task WhileItsListenConnectionIsCut_ReplicaB_FailsClosed_AndReadsEveryTokenFromTheDatabase()
    {
        await using var lab = await PropagationLab.StartAsync();
        // B does not reconnect within the test: it stays cut.
        await using var b = lab.NewApi(new() { ["Authentication:ListenerReconnectDelay"] = "01:00:00" });
        var (_, token) = await lab.Customers.NewTenantAsync("Cut");
        using var onB = new CustomerApiClient(b).As(token);
        var tokenId = await WarmAsync(b, onB);
        var cache = b.Services.GetRequiredService<TokenCache>();

        // A revocation the cache is never told about (triggers off for this session): while B
        // listens, its cache is what answers, so B still accepts the token.
        await SilentlyRevokeAsync(lab, tokenId, revoke: true);
        await ResultAsync(await onB.GetAsync("/client/v4/user/tokens/verify"));

        // Cut B's (and A's) LISTEN connection: B must stop trusting its cache at once.
        await using (var admin = new NpgsqlConnection(lab.Database.ConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{TokenChangeListener.ApplicationName}'", admin);
            Assert.True((long)(await kill.ExecuteScalarAsync())! >= 2);
        }

        await WaitUntilAsync(() => !cache.IsListening);
        Assert.Equal(HttpStatusCode.Unauthorized, (await onB.GetAsync("/client/v4/user/tokens/verify")).StatusCode);

        // Nothing is cached while cut: each request is a database read.
        await SilentlyRevokeAsync(lab, tokenId, revoke: false);
        var hits = cache.Hits;
        await ResultAsync(await onB.GetAsync("/client/v4/user/tokens/verify"));
        await ResultAsync(await onB.GetAsync("/client/v4/user/tokens/verify"));
        Assert.Equal(hits, cache.Hits);
    }

    /// <summary>Uses the token on B until B's cache answers (a visible hit); returns the token id.</summary>
    private static async Task<string> WarmAsync(ApiFactory b, HttpClient onB)
    {
        var cache = b.Services.GetRequiredService<TokenCache>();
        await WaitUntilAsync(() => cache.IsListening);
        var id = (await ResultAsync(await onB.GetAsync("/client/v4/user/tokens/verify"))).GetProperty("id").GetString()!;
        var hits = cache.Hits;
        await ResultAsync(await onB.GetAsync("/client/v4/user/tokens/verify"));
        Assert.Equal(hits + 1, cache.Hits);
        return id;
    }

    private static async Task<TimeSpan> TimeUntilRefusedAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var response = await client.GetAsync("/client/v4/user/tokens/verify");
            // 401 for a revoked or rolled token, 403 (code 9109) for one now outside its condition.
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                return clock.Elapsed;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        return clock.Elapsed;
    }

    /// <summary>Revokes or restores the token behind every cache's back: this session fires no triggers, so no NOTIFY.</summary>
    private static async Task SilentlyRevokeAsync(PropagationLab lab, string tokenId, bool revoke)
    {
        await using var connection = new NpgsqlConnection(lab.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SET session_replication_role = replica; UPDATE api_tokens SET revoked_on = CASE WHEN @revoke THEN now() END WHERE id = @id", connection);
        command.Parameters.AddWithValue("revoke", revoke);
        command.Parameters.AddWithValue("id", tokenId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.True(condition());
    }
}
