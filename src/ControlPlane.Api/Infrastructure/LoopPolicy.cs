namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The one failure policy of the API's background loops (dispatcher, token listener,
/// last-used flush, traffic retention): run the body again and again until shutdown; on any
/// exception but shutdown's own cancellation, log the exception object and back off (1 s,
/// doubling to 30 s, back to 1 s after a body that ran for a minute without failing).
/// Consumers get theirs from MassTransit retry (consumer definitions).
/// </summary>
public static class LoopPolicy
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HealthyRun = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Runs <paramref name="body"/> until <paramref name="stoppingToken"/> is cancelled; returns
    /// then, never throws. <paramref name="firstBackoff"/> replaces the 1 s first wait.
    /// </summary>
    public static async Task RunAsync(
        string loop, Func<CancellationToken, Task> body, TimeProvider time, ILogger logger, CancellationToken stoppingToken, TimeSpan? firstBackoff = null)
    {
        var first = firstBackoff ?? FirstBackoff;
        var last = first > LastBackoff ? first : LastBackoff;
        var backoff = first;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            try
            {
                await body(stoppingToken);
                backoff = first;
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (time.GetElapsedTime(started) >= HealthyRun)
                {
                    backoff = first;
                }

                logger.LogError(e, "{Loop} failed; retrying in {Backoff} s", loop, backoff.TotalSeconds);
            }

            try
            {
                await Task.Delay(backoff, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, last.Ticks));
        }
    }
}
