using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure.Telemetry;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Settings of token authentication (section <c>Authentication</c>).</summary>
public sealed class AuthenticationOptions
{
    public const string Section = "Authentication";

    /// <summary>How often <c>last_used_on</c> is written for the tokens used since the last write (default 60 s; also written at shutdown).</summary>
    public TimeSpan LastUsedFlushInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Wait before the token-change listener reconnects after losing its connection (default 1 s).</summary>
    public TimeSpan ListenerReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Authenticated tokens by the SHA-256 of their secret, so that after a token's first use
/// it is authenticated from memory. A token's row changes (revoke, roll, expiry, policies)
/// reach every replica through Postgres <c>NOTIFY api_token_changed</c> (a trigger on
/// <c>api_tokens</c>, so no writer can forget it), and the serving replica drops the entry
/// itself after its save. The cache is used only while <see cref="TokenChangeListener"/>
/// holds its LISTEN connection: while that is down, every lookup goes to the database
/// (fails closed) and nothing is cached. A read that raced with a change is never cached:
/// entries carry the invalidation generation their read started in.
/// Expiry and not-before are checked against the clock on every hit, by the caller.
/// </summary>
public sealed class TokenCache(ApiMetrics metrics)
{
    /// <summary>The Postgres channel the <c>api_tokens</c> trigger notifies with the token id.</summary>
    public const string Channel = "api_token_changed";

    private readonly ConcurrentDictionary<string, ApiToken> byHash = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private long generation;
    private bool listening;
    private long hits;
    private long misses;

    /// <summary>Lookups answered from memory, since start.</summary>
    public long Hits => Interlocked.Read(ref hits);

    /// <summary>Lookups that went to the database, since start.</summary>
    public long Misses => Interlocked.Read(ref misses);

    /// <summary>True while the LISTEN connection is up, i.e. while the cache may be used.</summary>
    public bool IsListening => Volatile.Read(ref listening);

    /// <summary>The current invalidation generation; pass it to <see cref="Add"/> for a read that starts now.</summary>
    public long Generation => Interlocked.Read(ref generation);

    /// <summary>The cached token of this secret hash, or null (always null while not listening). Counts a hit or a miss.</summary>
    public ApiToken? Find(byte[] secretHash)
    {
        if (IsListening && byHash.TryGetValue(Convert.ToHexString(secretHash), out var token))
        {
            Interlocked.Increment(ref hits);
            metrics.TokenCacheLookup(hit: true);
            return token;
        }

        Interlocked.Increment(ref misses);
        metrics.TokenCacheLookup(hit: false);
        return null;
    }

    /// <summary>
    /// Caches a token read from the database (untracked; the cache never hands it to a
    /// DbContext). Ignored when not listening, or when anything was invalidated since
    /// <paramref name="readGeneration"/>.
    /// </summary>
    public void Add(byte[] secretHash, ApiToken token, long readGeneration)
    {
        lock (gate)
        {
            if (listening && generation == readGeneration)
            {
                byHash[Convert.ToHexString(secretHash)] = token;
            }
        }
    }

    /// <summary>Drops every entry of this token (its old secret included, after a roll).</summary>
    public void Invalidate(string tokenId)
    {
        lock (gate)
        {
            generation++;
            foreach (var (key, token) in byHash)
            {
                if (token.Id == tokenId)
                {
                    byHash.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>Called by the listener: any change of state empties the cache, since notifications may have been missed.</summary>
    public void SetListening(bool value)
    {
        lock (gate)
        {
            generation++;
            listening = value;
            byHash.Clear();
        }
    }
}

/// <summary>
/// Holds the LISTEN connection of <see cref="TokenCache"/> and applies its notifications.
/// Loses it → the cache is emptied and bypassed until the connection is back (reconnecting
/// after <see cref="AuthenticationOptions.ListenerReconnectDelay"/>, then with <see cref="LoopPolicy"/>'s backoff).
/// </summary>
public sealed class TokenChangeListener(
    TokenCache cache, IOptions<ConnectionStringOptions> connectionStrings, IOptions<AuthenticationOptions> options, TimeProvider time, ILogger<TokenChangeListener> logger)
    : BackgroundService
{
    /// <summary>The listener's <c>application_name</c> in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "controlplane-token-listener";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        LoopPolicy.RunAsync("Token-change listener", ListenAsync, time, logger, stoppingToken, options.Value.ListenerReconnectDelay);

    /// <summary>Holds the LISTEN connection until it breaks (which throws) or shutdown; the cache is on only meanwhile.</summary>
    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionStrings.Value.ControlPlane)
            {
                Pooling = false,
                ApplicationName = ApplicationName,
                // Without traffic a cut connection is noticed by the keepalive.
                KeepAlive = 5,
            };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(stoppingToken);
            connection.Notification += (_, e) => cache.Invalidate(e.Payload);
            await using (var listen = new NpgsqlCommand($"LISTEN {TokenCache.Channel}", connection))
            {
                await listen.ExecuteNonQueryAsync(stoppingToken);
            }

            cache.SetListening(true);
            logger.LogInformation("Token cache on: listening for token changes");
            while (!stoppingToken.IsCancellationRequested)
            {
                await connection.WaitAsync(stoppingToken);
            }
        }
        finally
        {
            cache.SetListening(false);
        }
    }
}

/// <summary>
/// Drops a token from this replica's cache as soon as a save that changed it succeeds, so
/// the serving replica never waits for its own NOTIFY. Inside an explicit transaction the
/// trigger's NOTIFY (delivered at commit) does the same within milliseconds.
/// </summary>
public sealed class TokenChangeInterceptor(TokenCache cache) : SaveChangesInterceptor
{
    private readonly ConditionalWeakTable<DbContext, List<string>> pending = [];

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context)
        {
            var changed = context.ChangeTracker.Entries<ApiToken>()
                .Where(e => e.State == EntityState.Deleted
                            || (e.State == EntityState.Modified && e.Properties.Any(p => p.IsModified && p.Metadata.Name != nameof(ApiToken.LastUsedOn))))
                .Select(e => e.Entity.Id)
                .ToList();
            pending.AddOrUpdate(context, changed);
        }

        return base.SavingChangesAsync(eventData, result, cancellationToken);
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && pending.TryGetValue(context, out var changed))
        {
            foreach (var id in changed)
            {
                cache.Invalidate(id);
            }

            pending.Remove(context);
        }

        return base.SavedChangesAsync(eventData, result, cancellationToken);
    }
}

/// <summary>
/// <c>last_used_on</c> in batches: authentication records the use in memory, and one
/// <c>UPDATE … FROM unnest(…)</c> writes every token used since the last flush, every
/// <see cref="AuthenticationOptions.LastUsedFlushInterval"/> (so at most that stale) and at shutdown.
/// </summary>
public sealed class TokenUsage(IServiceScopeFactory scopes, IOptions<AuthenticationOptions> options, TimeProvider time, ILogger<TokenUsage> logger)
    : BackgroundService
{
    private ConcurrentDictionary<string, DateTime> used = new(StringComparer.Ordinal);

    /// <summary>Records that the token was used at <paramref name="when"/> (UTC).</summary>
    public void Record(string tokenId, DateTime when) => used[tokenId] = when;

    /// <summary>Writes the recorded uses in one statement; returns how many tokens it wrote. A failed write keeps them for the next flush and throws.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var batch = Interlocked.Exchange(ref used, new ConcurrentDictionary<string, DateTime>(StringComparer.Ordinal));
        if (batch.IsEmpty)
        {
            return 0;
        }

        var ids = batch.Keys.ToArray();
        var times = ids.Select(id => batch[id]).ToArray();
        try
        {
            await using var scope = scopes.CreateSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<ControlPlaneDbContext>();
            return await db.Database.ExecuteSqlAsync($"""
                UPDATE api_tokens AS t SET last_used_on = GREATEST(COALESCE(t.last_used_on, '-infinity'), u.used_on)
                FROM unnest({ids}::text[], {times}::timestamptz[]) AS u(id, used_on) WHERE t.id = u.id
                """, cancellationToken);
        }
        catch
        {
            foreach (var (id, when) in batch)
            {
                used.AddOrUpdate(id, when, (_, newer) => newer > when ? newer : when);
            }

            throw;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not write last_used_on at shutdown");
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        LoopPolicy.RunAsync("last_used_on flush", async stopping =>
        {
            await Task.Delay(options.Value.LastUsedFlushInterval, time, stopping);
            await FlushAsync(stopping);
        }, time, logger, stoppingToken);
}
