using System.Globalization;
using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using UUIDNext;

namespace EdgeAgent.Reporting;

/// <summary>
/// The agent's plaintext-traffic counts from the kernel to the broker's confirm. Counts join the
/// open interval; <see cref="Due"/> closes it and cuts it into messages of at most
/// <see cref="BatchSize"/> zones, each with an id derived from (DC, interval start, batch index).
/// Those messages stay here, unchanged, until each is confirmed, and every retry sends exactly
/// them again: when the broker had a message but its confirm was lost, the copy carries the same
/// report id, and the API drops it. One closed interval waits at a time; meanwhile new counts keep
/// joining the open interval, so memory stays bounded (two intervals' zones) however long the
/// broker is away. Not thread-safe: one loop owns it.
/// </summary>
public sealed class PendingTrafficReports(string dataCenter, TimeProvider time)
{
    public const int BatchSize = 5000;

    /// <summary>Fixed for good: changing it changes every id, so a retry across an upgrade would count twice.</summary>
    private static readonly Guid IdNamespace = new("c5f2fb77-d210-4a5e-8daa-ea8714886a6b");

    private readonly Dictionary<string, ZoneSynCounts> open = new(StringComparer.Ordinal);
    private readonly List<PlaintextTrafficCounted> unconfirmed = [];
    private DateTimeOffset openSince = time.GetUtcNow();

    /// <summary>Start of the interval now counting.</summary>
    public DateTimeOffset OpenSince => openSince;

    /// <summary>Messages of the closed interval that the broker has not confirmed yet, in batch order.</summary>
    public IReadOnlyList<PlaintextTrafficCounted> Unconfirmed => unconfirmed;

    /// <summary>
    /// The report id of one message: a name-based UUID (version 5, SHA-1, RFC 9562) of
    /// "<c>dc/start/batch</c>", the start in UTC as ISO 8601 with 100 ns ticks, under a namespace
    /// of this project. UUIDNext computes it (a small, dependency-free, 0BSD library): .NET
    /// itself has no version 5 UUIDs, and a library keeps the byte-order details out of this code.
    /// </summary>
    public static Guid ReportId(string dataCenter, DateTimeOffset intervalStart, int batch) =>
        Uuid.NewNameBased(IdNamespace, string.Create(CultureInfo.InvariantCulture,
            $"{dataCenter}/{intervalStart.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'}/{batch}"));

    /// <summary>Adds counts read from the kernel to the open interval.</summary>
    public void Add(IReadOnlyDictionary<string, ZoneSynCounts> counts)
    {
        foreach (var (zone, more) in counts)
        {
            var sum = open.GetValueOrDefault(zone) ?? new ZoneSynCounts(0, 0);
            open[zone] = new ZoneSynCounts(sum.V4 + more.V4, sum.V6 + more.V6, sum.BlockedV4 + more.BlockedV4, sum.BlockedV6 + more.BlockedV6);
        }
    }

    /// <summary>
    /// The messages to publish now, in batch order: while a closed interval has unconfirmed
    /// messages, exactly those (the open interval keeps counting); otherwise the open interval is
    /// closed at the current time and its messages are returned. Zones are sorted by id before
    /// they are cut into batches, so a batch's index names the same zones on every retry.
    /// </summary>
    public IReadOnlyList<PlaintextTrafficCounted> Due()
    {
        if (unconfirmed.Count == 0)
        {
            var end = time.GetUtcNow();
            var batches = open.OrderBy(z => z.Key, StringComparer.Ordinal).Chunk(BatchSize);
            unconfirmed.AddRange(batches.Select((zones, batch) => new PlaintextTrafficCounted(
                ReportId(dataCenter, openSince, batch), dataCenter, openSince, end,
                zones.Select(z => new ZoneTraffic(z.Key, z.Value.V4, z.Value.V6, z.Value.BlockedV4, z.Value.BlockedV6)).ToList())));
            open.Clear();
            openSince = end;
        }

        return [.. unconfirmed];
    }

    /// <summary>The broker confirmed this message: it is never sent again.</summary>
    public void Confirmed(Guid reportId) => unconfirmed.RemoveAll(r => r.ReportId == reportId);
}
