using EdgeAgent.Dataplane;

namespace EdgeAgent.Tests;

/// <summary>
/// The counting logic on its own: what a change sends, and what reads book to which zone. The same
/// paths run against real counters in DataplaneLabTests.
/// </summary>
public sealed class SynLedgerTests
{
    private static readonly TableLayout Layout = TableLayout.Default;
    private static readonly AddressSet Closed = Layout.Find("closed_v4")!;
    private static readonly AddressSet Attempted = Layout.Find("attempted_v4")!;
    private static readonly AddressSet Blocked = Layout.Find("blocked_v4")!;
    private static readonly AddressSet AttemptedV6 = Layout.Find("attempted_v6")!;
    private const string Address = "198.51.100.10";

    private readonly SynLedger ledger = new();
    private readonly Dictionary<string, string> owners = new(StringComparer.Ordinal) { [Address] = "zone-a" };

    [Fact]
    public void OpenAndClose_SendOnlyTheClosedElement()
    {
        ElementChange[] close = [new(Closed, Address, Add: true, "zone-a")];
        Assert.Equal(close, ledger.Plan(close));
        Assert.Empty(ledger.Retiring);
    }

    [Fact]
    public void Readings_BookGrowthSinceTheLastRead_AttemptedAndBlockedApart()
    {
        Book((Attempted, 2), (Blocked, 0));
        Book((Attempted, 5), (Blocked, 3), (AttemptedV6, 1));

        Assert.Equal(new ZoneSynCounts(5, 1, BlockedV4: 3), ledger.TakeCounts()["zone-a"]);
        Book((Attempted, 5), (Blocked, 3));
        Assert.Empty(ledger.TakeCounts());
    }

    [Fact]
    public void ADeletedZonesCountingElements_RetireUntilTheNextRead_WhichBooksThemToIt()
    {
        Book((Attempted, 4));
        ElementChange[] delete =
        [
            new(Closed, Address, Add: false, "zone-a"),
            new(Attempted, Address, Add: false, "zone-a"),
            new(Blocked, Address, Add: false, "zone-a"),
        ];

        Assert.Equal([delete[0]], ledger.Plan(delete));
        owners.Remove(Address);
        Book((Attempted, 6), (Blocked, 2));

        Assert.Equal(new ZoneSynCounts(6, 0, BlockedV4: 2), ledger.TakeCounts()["zone-a"]);
        Assert.Equal([delete[1], delete[2]], ledger.TakeRetired());
        Assert.Empty(ledger.Retiring);
    }

    [Fact]
    public void AnAddressTakenAgainBeforeTheRead_KeepsItsElementsAndItsCount()
    {
        Book((Attempted, 4));
        ledger.TakeCounts();
        ledger.Plan([new(Attempted, Address, Add: false, "zone-a"), new(Blocked, Address, Add: false, "zone-a")]);

        var readd = ledger.Plan([new(Attempted, Address, Add: true, "zone-a"), new(Blocked, Address, Add: true, "zone-a")]);

        Assert.Empty(readd);
        Assert.Empty(ledger.Retiring);
        Book((Attempted, 7));
        Assert.Equal(new ZoneSynCounts(3, 0), ledger.TakeCounts()["zone-a"]);
    }

    [Fact]
    public void ANewElement_StartsFromZero_AndAReadingBelowTheLast_IsAllNew()
    {
        Book((Attempted, 9));
        ledger.TakeCounts();

        // Re-created behind the agent's back (a flush, a repair): 2 is new traffic, not -7.
        Book((Attempted, 2));
        Assert.Equal(new ZoneSynCounts(2, 0), ledger.TakeCounts()["zone-a"]);

        // Added fresh by the agent: the kernel starts it at zero, so its first reading is all new.
        ledger.Plan([new(Attempted, Address, Add: true, "zone-a")]);
        Book((Attempted, 1));
        Assert.Equal(new ZoneSynCounts(1, 0), ledger.TakeCounts()["zone-a"]);
    }

    [Fact]
    public void ElementsNobodyOwns_AreNotBooked()
    {
        ledger.Book([new CounterReading(Attempted, "198.51.100.250", 5)], owners.GetValueOrDefault);
        Assert.Empty(ledger.TakeCounts());
    }

    private void Book(params (AddressSet Set, long Packets)[] readings) =>
        ledger.Book(readings.Select(r => new CounterReading(r.Set, r.Set.IsV6 ? "2001:db8:1::a" : Address, r.Packets)), element => owners.GetValueOrDefault(element) ?? (element.Contains(':', StringComparison.Ordinal) ? "zone-a" : null));
}
