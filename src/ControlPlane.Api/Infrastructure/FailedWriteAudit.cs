using System.Text.Json;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Endpoint metadata: the audit action and resource type of a write route, for its failures.</summary>
/// <param name="Action">The action type its successful writes are audited under, such as <c>zone.create</c>.</param>
/// <param name="ResourceType">The resource type, such as <c>zone</c>.</param>
/// <param name="ResourceRouteValue">The route value that names the resource (<c>zone_id</c>), if any.</param>
public sealed record AuditedWrite(string Action, string ResourceType, string? ResourceRouteValue);

public static class AuditedWriteExtensions
{
    /// <summary>Names the audit action of a write route; its failures are audited under it with <c>result: false</c>.</summary>
    public static RouteHandlerBuilder Audited(this RouteHandlerBuilder route, string action, string resourceType, string? resourceRouteValue = null) =>
        route.WithMetadata(new AuditedWrite(action, resourceType, resourceRouteValue));
}

/// <summary>
/// Every write is audited, failed and denied ones included. Handlers audit their successes
/// with the write itself; this middleware, after authentication and the rate limiter,
/// audits a write that ended in 4xx or 5xx for an authenticated caller (customer token or
/// operator): the unit of work rolls the request's changes back and saves one entry with
/// <c>action.result: false</c>, the status and the envelope's error, under the caller's own
/// account. Unauthenticated requests never reach it and 429s are not written (logs and
/// metrics only), so no anonymous flood becomes database writes.
/// </summary>
public sealed class FailedWriteAudit(RequestDelegate next, ILogger<FailedWriteAudit> logger)
{
    public async Task InvokeAsync(HttpContext context, Caller caller, UnitOfWork work)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method))
        {
            await next(context);
            return;
        }

        // The error envelope is read back from the response, so write responses (small JSON) are buffered.
        var body = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch (Exception e) when (IsAuthenticated(caller) && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Body = body;
            // A body that cannot be read or bound surfaces here; the envelope handler answers it, and
            // the audit entry records the same status, code and message the client is given.
            var (failed, code, message) = RequestErrors.Describe(context.GetEndpoint(), e)
                ?? (StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "Internal server error.");
            await AuditAsync(context, work, failed, code, message);
            throw;
        }
        finally
        {
            context.Response.Body = body;
        }

        var status = context.Response.StatusCode;
        if (status >= 400 && status != StatusCodes.Status429TooManyRequests && IsAuthenticated(caller))
        {
            var (code, message) = ReadError(buffer);
            await AuditAsync(context, work, status, code, message);
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(body, context.RequestAborted);
    }

    private static bool IsAuthenticated(Caller caller) => caller.Token is not null || caller.IsOperator;

    private async Task AuditAsync(HttpContext context, UnitOfWork work, int status, int? code, string? message)
    {
        var endpoint = context.GetEndpoint();
        var write = endpoint?.Metadata.GetMetadata<AuditedWrite>();
        var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
        var resourceId = write?.ResourceRouteValue is { } key ? context.Request.RouteValues[key]?.ToString() : null;
        try
        {
            await work.RecordFailureAsync(
                write?.Action ?? $"{context.Request.Method} {route}",
                write?.ResourceType ?? "request",
                // A 404 means the resource is not the caller's (or not there): its id is not recorded as theirs.
                status != StatusCodes.Status404NotFound && resourceId is { Length: <= 64 } ? resourceId : null,
                new { status, error = new { code, message }, method = context.Request.Method, route },
                CancellationToken.None);
        }
        catch (Exception e)
        {
            // The failure itself already has its answer; losing its audit entry is logged, not turned into a 5xx.
            logger.LogError(e, "Could not audit a failed {Method} {Route} ({Status})", context.Request.Method, route, status);
        }
    }

    private static (int? Code, string? Message) ReadError(MemoryStream buffer)
    {
        try
        {
            using var envelope = JsonDocument.Parse(buffer.ToArray());
            if (envelope.RootElement.ValueKind == JsonValueKind.Object
                && envelope.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                var first = errors[0];
                return (first.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : null,
                    first.TryGetProperty("message", out var m) ? m.GetString() : null);
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status says enough.
        }

        return (null, null);
    }
}
