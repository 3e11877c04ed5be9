using System.Text.Json;
using ControlPlane.Contracts;
using EdgeAgent.Dataplane;
using EdgeAgent.Reporting;
using Microsoft.Extensions.Time.Testing;
using UUIDNext;

namespace EdgeAgent.Tests;

/// <summary>
/// Traffic reports keep their ids and contents until confirmed, so the API's duplicate check
/// catches a copy the broker already had. Fake clock, no broker: the lab test
/// (<c>TrafficReportTests</c> in EndToEnd.Tests) drives the same class through a lost confirm.
/// </summary>
public sealed class PendingTrafficReportsTests
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ReportId_IsTheVersion5UuidOfDcIntervalStartAndBatch()
    {
        // The RFC 9562 (A.4) example, so the library's byte order is the standard one.
        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), Uuid.NewNameBased(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "www.example.com"));

        // Computed apart from this code: python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('c5f2fb77-d210-4a5e-8daa-ea8714886a6b'), 'ams/2026-05-01T12:00:00.0000000Z/0'))"
        Assert.Equal(new Guid("0a813c9a-7af5-5840-b8d7-82632f22e685"), PendingTrafficReports.ReportId("ams", Start, 0));
        Assert.Equal(new Guid("5f8ef3a6-837e-5b16-bed9-414f6b760f9a"), PendingTrafficReports.ReportId("ams", Start.ToOffset(TimeSpan.FromHours(2)), 1));
        Assert.NotEqual(PendingTrafficReports.ReportId("ams", Start, 0), PendingTrafficReports.ReportId("sjc", Start, 0));
        Assert.NotEqual(PendingTrafficReports.ReportId("ams", Start, 0), PendingTrafficReports.ReportId("ams", Start.AddTicks(1), 0));
    }

    [Fact]
    public void Due_CutsTheIntervalIntoBatchesOfSortedZones_EachIdNamingDcStartAndIndex()
    {
        var time = new FakeTimeProvider(Start);
        var reports = new PendingTrafficReports("ams", time);
        var twinTime = new FakeTimeProvider(Start);
        var twin = new PendingTrafficReports("ams", twinTime);
        var counts = Zones(2 * PendingTrafficReports.BatchSize + 1);
        reports.Add(counts);
        twin.Add(counts.Reverse().ToDictionary());
        time.Advance(TimeSpan.FromMinutes(1));
        twinTime.Advance(TimeSpan.FromMinutes(1));

        var due = reports.Due();

        Assert.Equal([5000, 5000, 1], due.Select(r => r.Zones.Count));
        Assert.Equal(counts.Keys.Order(StringComparer.Ordinal), due.SelectMany(r => r.Zones.Select(z => z.ZoneId)));
        Assert.All(due, r => Assert.Equal(("ams", Start, Start.AddMinutes(1)), (r.DataCenter, r.IntervalStart, r.IntervalEnd)));
        Assert.Equal(Enumerable.Range(0, 3).Select(i => PendingTrafficReports.ReportId("ams", Start, i)), due.Select(r => r.ReportId));
        // Same DC, interval and counts, in any order: the same messages.
        Assert.Equal(Json(due), Json(twin.Due()));
    }

    [Fact]
    public void AfterAFailedPublish_ExactlyTheUnconfirmedMessagesAreDue_Unchanged_AndNewCountsWaitForTheirOwnInterval()
    {
        var time = new FakeTimeProvider(Start);
        var reports = new PendingTrafficReports("ams", time);
        reports.Add(Zones(PendingTrafficReports.BatchSize + 2));
        time.Advance(TimeSpan.FromMinutes(1));
        var first = reports.Due();
        var sent = Json(first);
        reports.Confirmed(first[0].ReportId);

        // The second batch's publish failed; meanwhile more SYNs arrive, to a zone already in it and a new one.
        time.Advance(TimeSpan.FromMinutes(1));
        reports.Add(new Dictionary<string, ZoneSynCounts> { ["zone-05001"] = new(7, 0), ["zone-new"] = new(0, 3, 0, 3) });

        var retry = reports.Due();
        Assert.Equal(sent[1..], Json(retry));
        Assert.Equal(sent[1..], Json(reports.Due()));

        reports.Confirmed(retry[0].ReportId);
        time.Advance(TimeSpan.FromMinutes(1));
        var next = reports.Due();

        // The new counts are the next interval's, which began where the failed one ended.
        var report = Assert.Single(next);
        Assert.Equal((Start.AddMinutes(1), Start.AddMinutes(3)), (report.IntervalStart, report.IntervalEnd));
        Assert.Equal(PendingTrafficReports.ReportId("ams", Start.AddMinutes(1), 0), report.ReportId);
        Assert.Equal([new ZoneTraffic("zone-05001", 7, 0, 0, 0), new ZoneTraffic("zone-new", 0, 3, 0, 3)], report.Zones);
    }

    [Fact]
    public void AQuietInterval_HasNoMessages_AndTheNextOneStartsAtItsEnd()
    {
        var time = new FakeTimeProvider(Start);
        var reports = new PendingTrafficReports("ams", time);
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Empty(reports.Due());
        Assert.Equal(Start.AddMinutes(1), reports.OpenSince);
    }

    private static Dictionary<string, ZoneSynCounts> Zones(int count) =>
        Enumerable.Range(1, count).ToDictionary(i => $"zone-{i:D5}", i => new ZoneSynCounts(i, 1, i % 2, 0));

    private static string[] Json(IEnumerable<PlaintextTrafficCounted> reports) => [.. reports.Select(r => JsonSerializer.Serialize(r))];
}
