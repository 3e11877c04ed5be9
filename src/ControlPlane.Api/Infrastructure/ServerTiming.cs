using System.Globalization;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// <c>Server-Timing: app;dur=12.3</c> on every response (W3C Server Timing): the time from the
/// request entering the pipeline to the response starting, that is to the first byte the server
/// sends. For a dashboard page that is the server time to first render; for a stream-rendered
/// page, to its first flush. <c>dur</c> is in milliseconds, as the W3C format defines it (our
/// metrics use seconds). Browsers show it in their network panel; <c>scripts/bench-dashboard</c>
/// reads it. It carries no content, only a duration that a client could time itself, though
/// less precisely: it removes network jitter from a timing measurement. Nothing the API compares
/// in secret is timing-dependent (tokens are looked up, or compared in fixed time, by their SHA-256), which is why it is on
/// every answer, the refusals included.
/// </summary>
public static class ServerTiming
{
    /// <summary>The metric name in the header.</summary>
    public const string Metric = "app";

    /// <summary>Put first in the pipeline, so the figure covers everything after it.</summary>
    public static IApplicationBuilder UseServerTiming(this IApplicationBuilder app)
    {
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        return app.Use(async (context, next) =>
        {
            var started = time.GetTimestamp();
            context.Response.OnStarting(() =>
            {
                var milliseconds = time.GetElapsedTime(started).TotalMilliseconds;
                context.Response.Headers.Append("Server-Timing", string.Create(CultureInfo.InvariantCulture, $"{Metric};dur={milliseconds:0.0}"));
                return Task.CompletedTask;
            });
            await next(context);
        });
    }
}
