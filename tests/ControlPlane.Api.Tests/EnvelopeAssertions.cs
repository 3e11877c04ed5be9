using System.Net;
using System.Text.Json;

namespace ControlPlane.Api.Tests;

internal static class EnvelopeAssertions
{
    /// <summary>Asserts a failure envelope with the given status and first error code; returns the body.</summary>
    public static async Task<JsonElement> AssertFailureAsync(HttpResponseMessage response, HttpStatusCode status, int code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("result").ValueKind);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("messages").ValueKind);
        var error = body.GetProperty("errors")[0];
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return body;
    }

    public static async Task<JsonElement> AssertSuccessAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal(0, body.GetProperty("errors").GetArrayLength());
        return body;
    }
}
