using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class TokensTests(ApiFixture fixture)
{
    [Fact]
    public async Task Verify_UserAndAccountRoutes_SayTheTokenIsActive()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Verify");
        using var client = fixture.Api.As(token);

        foreach (var route in new[] { "/client/v4/user/tokens/verify", $"/client/v4/accounts/{account}/tokens/verify" })
        {
            var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync(route));
            Assert.Equal("active", body.GetProperty("result").GetProperty("status").GetString());
            Assert.Equal(["id", "status", "not_before", "expires_on"], body.GetProperty("result").EnumerateObject().Select(p => p.Name));
            var message = Assert.Single(body.GetProperty("messages").EnumerateArray());
            Assert.Equal(10000, message.GetProperty("code").GetInt32());
            Assert.Equal("This API Token is valid and active", message.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task CreateListGetRollRevoke_TheSecretIsShownOnce_AndOldSecretsStopWorking()
    {
        var (account, admin) = await fixture.Api.NewTenantAsync("Token life");
        using var client = fixture.Api.As(admin);

        var created = await ResultAsync(await client.PostAsJsonAsync($"/client/v4/accounts/{account}/tokens", new
        {
            name = "ci",
            policies = new[] { new { effect = "allow", permission_groups = new[] { new { id = ZoneRead } }, resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{account}"] = "*" } } },
        }));
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("value").GetString()!;
        Assert.StartsWith("cpat_", secret, StringComparison.Ordinal);
        Assert.True(Convert.FromBase64String(secret[5..].Replace('-', '+').Replace('_', '/') + "=").Length >= 32, "at least 256 bits of randomness");
        Assert.Equal("Zone Read", created.GetProperty("policies")[0].GetProperty("permission_groups")[0].GetProperty("name").GetString());

        var got = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{id}"));
        Assert.False(got.TryGetProperty("value", out _), "the secret is shown only at creation");
        var list = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens"));
        Assert.Equal(2, list.GetProperty("result_info").GetProperty("total_count").GetInt32());

        using var ci = fixture.Api.As(secret);
        await EnvelopeAssertions.AssertSuccessAsync(await ci.GetAsync("/client/v4/user/tokens/verify"));

        var rolled = (await ResultAsync(await client.PutAsJsonAsync($"/client/v4/accounts/{account}/tokens/{id}/value", new { }))).GetString()!;
        await EnvelopeAssertions.AssertFailureAsync(await ci.GetAsync("/client/v4/user/tokens/verify"), HttpStatusCode.Unauthorized, 1000);
        using var rolledClient = fixture.Api.As(rolled);
        await EnvelopeAssertions.AssertSuccessAsync(await rolledClient.GetAsync("/client/v4/user/tokens/verify"));

        var revoked = await ResultAsync(await client.DeleteAsync($"/client/v4/accounts/{account}/tokens/{id}"));
        Assert.Equal(id, revoked.GetProperty("id").GetString());
        await EnvelopeAssertions.AssertFailureAsync(await rolledClient.GetAsync("/client/v4/user/tokens/verify"), HttpStatusCode.Unauthorized, 1000);
        var after = await ResultAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{id}"));
        Assert.Equal("disabled", after.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ExpiredAndNotYetValidTokens_Are401()
    {
        var (account, admin) = await fixture.Api.NewTenantAsync("Validity");
        using var client = fixture.Api.As(admin);
        var route = $"/client/v4/accounts/{account}/tokens";
        var expired = await IssueTokenAsync(client, route, account, [ZoneRead], notBefore: DateTime.UtcNow.AddDays(-2), expiresOn: DateTime.UtcNow.AddSeconds(1));
        var future = await IssueTokenAsync(client, route, account, [ZoneRead], notBefore: DateTime.UtcNow.AddDays(1));
        await Task.Delay(1500);

        foreach (var token in new[] { expired, future, "cpat_" + new string('x', 43) })
        {
            using var caller = fixture.Api.As(token);
            await EnvelopeAssertions.AssertFailureAsync(await caller.GetAsync("/client/v4/zones"), HttpStatusCode.Unauthorized, 1000);
        }
    }

    [Fact]
    public async Task Credentials_MissingOrMalformed_Are400()
    {
        using var anonymous = fixture.Factory.CreateHttpsClient();
        await EnvelopeAssertions.AssertFailureAsync(await anonymous.GetAsync("/client/v4/zones"), HttpStatusCode.BadRequest, 9106);

        anonymous.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer two words");
        await EnvelopeAssertions.AssertFailureAsync(await anonymous.GetAsync("/client/v4/zones"), HttpStatusCode.BadRequest, 6003);
    }

    [Fact]
    public async Task TokenSecrets_AreNeitherInTheDatabase_NorInTheLogs()
    {
        var (account, admin) = await fixture.Api.NewTenantAsync("Secrets");
        using var client = fixture.Api.As(admin);
        var secret = await IssueTokenAsync(client, $"/client/v4/accounts/{account}/tokens", account, [ZoneRead]);
        using var user = fixture.Api.As(secret);
        await EnvelopeAssertions.AssertSuccessAsync(await user.GetAsync("/client/v4/zones"));
        await user.GetAsync("/client/v4/zones/" + new string('0', 32));

        // Every row of every table, as text, searched for either secret.
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains("api_tokens", tables);
        foreach (var table in tables)
        {
            foreach (var value in new[] { secret, admin })
            {
                await using var search = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" t WHERE t::text LIKE '%' || @secret || '%'", connection);
                search.Parameters.AddWithValue("secret", value[5..]);
                Assert.Equal(0L, (long)(await search.ExecuteScalarAsync())!);
            }
        }

        Assert.DoesNotContain(fixture.Factory.Logs.Lines, line => line.Contains(secret[5..], StringComparison.Ordinal) || line.Contains(admin[5..], StringComparison.Ordinal));
        Assert.NotEmpty(fixture.Factory.Logs.Lines);
        await using var db = fixture.Database.CreateContext();
        Assert.True(await db.ApiTokens.IgnoreQueryFilters().AnyAsync(t => t.SecretHash == System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(secret))));
    }
}
