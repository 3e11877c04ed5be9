using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Tests;

/// <summary>Bad input gets a clear envelope error and changes nothing.</summary>
[Collection("api")]
public sealed class ErrorEnvelopeTests(ApiFixture fixture)
{
    [Fact]
    public async Task BadRequests_GetTheirStatusInTheEnvelope_AndWriteNothingButTheirFailureAudit()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Bad input");
        using var client = fixture.Api.As(token);
        await using var db = fixture.Database.CreateContext();
        var zonesBefore = await db.Zones.IgnoreQueryFilters().CountAsync();
        var auditBefore = await db.AuditLogs.IgnoreQueryFilters().CountAsync();

        await EnvelopeAssertions.AssertFailureAsync(await client.PutAsJsonAsync("/client/v4/zones", new { }), HttpStatusCode.MethodNotAllowed, 7001);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent("{\"account\":{\"id\":\"" + account + "\"},\"name\":\"x.example.com\"}", Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, 9207);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent("{\"account\": {\"id\": ", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, 6007);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent("{\"name\": 42, \"account\": []}", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, 1004);
        var huge = "{\"name\":\"" + new string('a', 100_000) + "\"}";
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent(huge, Encoding.UTF8, "application/json")),
            HttpStatusCode.RequestEntityTooLarge, 1203);
        await EnvelopeAssertions.AssertFailureAsync(
            await client.PostAsync("/client/v4/zones", new StringContent("", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, 1004);
        await EnvelopeAssertions.AssertFailureAsync(await client.PostAsJsonAsync("/client/v4/zones", new { name = "missing-account.example.com" }), HttpStatusCode.BadRequest, 1004);

        Assert.Equal(zonesBefore, await db.Zones.IgnoreQueryFilters().CountAsync());
        // Each failed write that reached its route is audited as failed, under the caller's
        // account. The 405 (no PUT route) and the 415 (no route accepts text/plain) are decided
        // by routing before an endpoint, and so its authentication, is chosen: not audited.
        var failures = await db.AuditLogs.IgnoreQueryFilters().OrderBy(a => a.When).Skip(auditBefore).ToListAsync();
        Assert.All(failures, a => Assert.Equal((false, account, "zone.create"), (a.ActionResult, a.AccountId, a.ActionType)));
        Assert.Equal([400, 400, 400, 400, 413], failures.Select(a => a.Metadata!.RootElement.GetProperty("status").GetInt32()).Order());
    }

    [Theory]
    [InlineData("/client/v4/zones/not-an-id")]
    [InlineData("/client/v4/zones/NOT0000000000000000000000000000A")]
    [InlineData("/client/v4/zones/%20/settings")]
    [InlineData("/client/v4/zones/0123/settings/disable_http_ports")]
    public async Task MalformedIds_Are404With7003(string route)
    {
        var (_, token) = await fixture.Api.NewTenantAsync("Ids");
        using var client = fixture.Api.As(token);

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync(route), HttpStatusCode.NotFound, 7003);
    }

    [Fact]
    public async Task WellFormedUnknownIds_Are404()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Unknown ids");
        using var client = fixture.Api.As(token);
        var unknown = new string('a', 32);

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/zones/{unknown}"), HttpStatusCode.NotFound, 1001);
        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/accounts/{account}/tokens/{unknown}"), HttpStatusCode.NotFound, 1003);
        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/accounts/{unknown}/tokens"), HttpStatusCode.NotFound, 1003);
    }

    [Fact]
    public async Task UnknownRoute_UnderTheCustomerApi_Is404InTheEnvelope()
    {
        var (_, token) = await fixture.Api.NewTenantAsync("Routes");
        using var client = fixture.Api.As(token);

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/client/v4/railguns"), HttpStatusCode.NotFound, 7000);
    }
}
