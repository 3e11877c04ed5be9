using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The one error path of the API. Anything that would otherwise leave with an empty
/// body or an ASP.NET ProblemDetails (unknown route, 405, 415, 413, an unhandled
/// exception) leaves instead as a Cloudflare-style envelope, because Cloudflare
/// clients break on any other shape.
/// </summary>
public static class EnvelopeErrors
{
    public static Task WriteFailureAsync(HttpContext context, int status, int code, string message) =>
        WriteAsync(context, status, ApiEnvelope.Failure(code, message));

    public static Task WriteAsync<T>(HttpContext context, int status, ApiEnvelope<T> envelope)
    {
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(envelope, json, contentType: "application/json");
    }

    public static IApplicationBuilder UseEnvelopeErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(WriteUnhandledAsync));
        app.UseStatusCodePages(context => WriteForStatusAsync(context.HttpContext));
        return app;
    }

    private static Task WriteUnhandledAsync(HttpContext context)
    {
        var feature = context.Features.Get<IExceptionHandlerFeature>();
        var error = feature?.Error;
        // A request that could not be read (malformed JSON, a body over the size limit, a query
        // value of the wrong type) is the client's fault, not ours: Cloudflare's code for it.
        if (error is not null && RequestErrors.Describe(feature?.Endpoint, error) is var (status, code, message))
        {
            return WriteFailureAsync(context, status, code, message);
        }

        // The database (or something under it) is unreachable: a clear, retryable 503,
        // not a 500, and the request fails fast instead of hanging.
        if (IsUnavailable(error))
        {
            context.Response.Headers.RetryAfter = "2";
            return WriteFailureAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.NotReady, "The service is temporarily unavailable; retry shortly.");
        }

        return WriteFailureAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "Internal server error.");
    }

    /// <summary>
    /// True when the database cannot serve right now: it is unreachable, or it answered with
    /// an error class that means "not now" (connection, resources, operator intervention, a
    /// serialization failure or deadlock). Any other answer from Postgres (a data exception
    /// such as text with a NUL) is not cured by a retry, so it must not say "retry".
    /// </summary>
    private static bool IsUnavailable(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is PostgresException postgres)
            {
                return postgres.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                    || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
                    || postgres.SqlState.StartsWith("57", StringComparison.Ordinal);
            }

            if (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static Task WriteForStatusAsync(HttpContext context) =>
        WriteForStatusAsync(context, context.Response.StatusCode, null);

    private static Task WriteForStatusAsync(HttpContext context, int status, string? detail)
    {
        var (code, message) = status switch
        {
            StatusCodes.Status400BadRequest => (ErrorCodes.BadRequest, detail ?? "Bad request."),
            StatusCodes.Status401Unauthorized => (ErrorCodes.InvalidApiToken, "Invalid API Token"),
            StatusCodes.Status403Forbidden => (ErrorCodes.AuthenticationError, "Authentication error"),
            StatusCodes.Status404NotFound => (ErrorCodes.NoRoute, "No route for that URI"),
            StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, $"Method {context.Request.Method} not allowed for this route"),
            StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "Request body too large."),
            StatusCodes.Status415UnsupportedMediaType => (RequestErrors.NotJsonContentType, "Content-type must be application/json."),
            _ when status >= 500 => (ErrorCodes.InternalError, "Internal server error."),
            _ => (ErrorCodes.BadRequest, $"Request failed with status {status}."),
        };
        return WriteFailureAsync(context, status, code, message);
    }
}
