using System.Net;
using System.Net.Http.Headers;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class EnvelopeTests(ApiFixture api)
{
    [Theory]
    [InlineData("/no/such/route")]
    [InlineData("/client/v4/zones/unknown/nothing")]
    public async Task UnknownRoute_Returns404InEnvelope(string path)
    {
        using var client = api.Factory.CreateHttpsClient();

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync(path), HttpStatusCode.NotFound, 7000);
    }

    [Fact]
    public async Task WrongMethod_Returns405InEnvelope()
    {
        using var client = api.Factory.CreateHttpsClient();

        await EnvelopeAssertions.AssertFailureAsync(await client.DeleteAsync("/health/live"), HttpStatusCode.MethodNotAllowed, 7001);
    }

    [Fact]
    public async Task OperatorApi_WithoutCredentials_Is400With9106()
    {
        using var client = api.Factory.CreateHttpsClient();

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/operator/v1/agents"), HttpStatusCode.BadRequest, 9106);
    }

    [Fact]
    public async Task OperatorApi_WithMalformedAuthorization_Is400With6003()
    {
        using var client = api.Factory.CreateHttpsClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Token abc");

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/operator/v1/agents"), HttpStatusCode.BadRequest, 6003);
    }

    [Fact]
    public async Task OperatorApi_WithWrongToken_Is401With1000()
    {
        using var client = api.Factory.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", api.Factory.OperatorToken + "x");

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync("/operator/v1/agents"), HttpStatusCode.Unauthorized, 1000);
    }

    [Fact]
    public async Task OperatorApi_WithOperatorToken_ListsAgents()
    {
        using var client = api.Factory.CreateHttpsClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", api.Factory.OperatorToken);

        var body = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/operator/v1/agents"));

        Assert.Equal(System.Text.Json.JsonValueKind.Array, body.GetProperty("result").ValueKind);
    }
}
