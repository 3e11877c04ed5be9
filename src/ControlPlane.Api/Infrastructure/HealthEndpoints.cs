using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// <c>/health/live</c> says the process serves requests; <c>/health/ready</c> runs the
/// checks tagged <c>ready</c> (Postgres, RabbitMQ) and names each one that fails.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public sealed record HealthCheckResult(string Name, string Status, string? Description, double DurationMs);

    public sealed record HealthResult(string Status, IReadOnlyList<HealthCheckResult> Checks);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(new HttpMethodMetadata(methods));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithMetadata(new HttpMethodMetadata(methods));
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = report.Entries
            .Select(e => new HealthCheckResult(e.Key, e.Value.Status.ToString(), e.Value.Description ?? e.Value.Exception?.Message, e.Value.Duration.TotalMilliseconds))
            .ToList();

        if (report.Status == HealthStatus.Healthy)
        {
            return EnvelopeErrors.WriteAsync(context, StatusCodes.Status200OK, ApiEnvelope.Ok(new HealthResult("Healthy", checks)));
        }

        var errors = checks
            .Where(c => c.Status != nameof(HealthStatus.Healthy))
            .Select(c => new ApiMessage(ErrorCodes.NotReady, $"{c.Name}: {c.Status}: {c.Description ?? "no detail"}"))
            .ToList();
        return EnvelopeErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ApiEnvelope.Failure(errors));
    }
}
