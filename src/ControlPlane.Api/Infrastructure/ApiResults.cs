using Microsoft.AspNetCore.Http.HttpResults;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Typed envelope results, so expected failures are return values and show in the OpenAPI document.</summary>
public static class ApiResults
{
    public static Ok<ApiEnvelope<T>> Ok<T>(T result, params ApiMessage[] messages) =>
        TypedResults.Ok(new ApiEnvelope<T>(true, [], messages, result));

    public static JsonHttpResult<ApiEnvelope<object>> Failure(int status, int code, string message) =>
        TypedResults.Json(ApiEnvelope.Failure(code, message), statusCode: status);

    public static JsonHttpResult<ApiEnvelope<object>> BadRequest(int code, string message) =>
        Failure(StatusCodes.Status400BadRequest, code, message);

    public static JsonHttpResult<ApiEnvelope<object>> NotFound(int code, string message) =>
        Failure(StatusCodes.Status404NotFound, code, message);

    public static JsonHttpResult<ApiEnvelope<object>> Forbidden() =>
        Failure(StatusCodes.Status403Forbidden, ErrorCodes.AuthenticationError, "Authentication error");

    public static JsonHttpResult<ApiEnvelope<object>> MalformedId(string what) =>
        NotFound(ErrorCodes.MalformedIdentifier, $"Could not route to this {what}, perhaps your object identifier is invalid?");
}
