using System.Data.Common;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure.Telemetry;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Wakes the dispatcher at once; a pulse with nobody waiting is kept until the next wait.</summary>
public sealed class DispatchSignal : IDisposable
{
    private readonly SemaphoreSlim pulses = new(0, 1);

    public void Pulse()
    {
        try
        {
            pulses.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every commit before it.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => pulses.WaitAsync(timeout, cancellationToken);

    public void Dispose() => pulses.Dispose();
}

/// <summary>Pulses the dispatcher after every commit of this process (the in-process half of the wake-up).</summary>
public sealed class CommitSignalInterceptor(DispatchSignal signal) : DbTransactionInterceptor
{
    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        signal.Pulse();
        return Task.CompletedTask;
    }
}

/// <summary>Whether this replica's dispatcher holds the lock (the published revision itself is in the database).</summary>
public sealed class DispatchState
{
    public bool Active { get; set; }
}

/// <summary>
/// Publishes the change log (DESIGN §3). One replica dispatches at a time: it holds a
/// Postgres session advisory lock for as long as its connection lives, and the others
/// wait for the lock. The active one LISTENs for commit notifications, is also pulsed
/// in-process, and polls every second, so a lost wake-up costs at most a second. Rows
/// go out in revision order with publisher confirms and are then marked published; a
/// crash in between republishes them, which agents ignore as stale.
/// </summary>
public sealed class ChangeDispatcher(
    IServiceScopeFactory scopes,
    IBus bus,
    DispatchSignal signal,
    DispatchState state,
    ApiMetrics metrics,
    IOptions<ConnectionStringOptions> connectionStrings,
    TimeProvider time,
    ILogger<ChangeDispatcher> logger) : BackgroundService
{
    /// <summary>Advisory-lock key of the dispatcher election ("cpdispat").</summary>
    public const long LockKey = 0x6370646973706174;
    public const string Channel = "change_log";
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await LoopPolicy.RunAsync("Change dispatcher", DispatchWhileLeaderAsync, time, logger, stoppingToken);
    }

    /// <summary>Waits for the lock, then publishes until the session dies (which throws) or shutdown.</summary>
    private async Task DispatchWhileLeaderAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Unpooled: closing it must end the session, which releases the advisory lock.
            var unpooled = new NpgsqlConnectionStringBuilder(connectionStrings.Value.ControlPlane) { Pooling = false };
            await using var session = new NpgsqlConnection(unpooled.ConnectionString);
            await session.OpenAsync(stoppingToken);
            while (!await TryLockAsync(session, stoppingToken))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }

            logger.LogInformation("This replica is now the change dispatcher");
            state.Active = true;
            session.Notification += (_, _) => signal.Pulse();
            await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", session))
            {
                await listen.ExecuteNonQueryAsync(stoppingToken);
            }

            using var stopListening = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var listening = ListenAsync(session, stopListening.Token);
            try
            {
                while (!stoppingToken.IsCancellationRequested && !listening.IsCompleted)
                {
                    while (await DispatchBatchAsync(stoppingToken) == Batch)
                    {
                    }

                    await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
                }

                await listening;
            }
            finally
            {
                await stopListening.CancelAsync();
            }
        }
        finally
        {
            state.Active = false;
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", session);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Waits on the session for notifications; ends (with an exception) when the session dies.</summary>
    private static async Task ListenAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await session.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Publishes up to one batch of unpublished rows; returns how many.</summary>
    private async Task<int> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<ControlPlaneDbContext>();
        var rows = await db.ChangeLog.AsNoTracking().Where(c => c.PublishedOn == null).OrderBy(c => c.Revision).Take(Batch).ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return 0;
        }

        foreach (var row in rows)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            // Publisher confirms are on: this returns once the broker has the message.
            var started = time.GetTimestamp();
            await bus.Publish(new EdgeChangeRecorded(row.Revision, row.Zones, new DateTimeOffset(row.CreatedOn, TimeSpan.Zero)), timeout.Token);
            metrics.Published(time.GetElapsedTime(started).TotalSeconds);
        }

        var last = rows[^1].Revision;
        var now = time.GetUtcNow().UtcDateTime;
        await db.ChangeLog.Where(c => c.PublishedOn == null && c.Revision <= last)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.PublishedOn, now), cancellationToken);
        return rows.Count;
    }
}
