using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

[Collection("api")]
public sealed class ZonesTests(ApiFixture fixture)
{
    private static string Unique(string suffix = "example.com") => $"z{Guid.NewGuid():N}"[..12] + "." + suffix;

    [Fact]
    public async Task CreateZone_ReturnsTheCloudflareZoneObject_WithDedicatedEdgeAddresses()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Zones A");
        using var client = fixture.Api.As(token);
        var name = Unique();

        var response = await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name = name.ToUpperInvariant() + "." });
        var body = await EnvelopeAssertions.AssertSuccessAsync(response);

        Assert.Equal(["success", "errors", "messages", "result"], body.EnumerateObject().Select(p => p.Name));
        var zone = body.GetProperty("result");
        Assert.Matches("^[0-9a-f]{32}$", zone.GetProperty("id").GetString());
        Assert.Equal(name, zone.GetProperty("name").GetString());
        Assert.Equal("active", zone.GetProperty("status").GetString());
        Assert.False(zone.GetProperty("paused").GetBoolean());
        Assert.Equal(account, zone.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal("Zones A", zone.GetProperty("account").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, zone.GetProperty("original_dnshost").ValueKind);
        Assert.Equal(0, zone.GetProperty("development_mode").GetInt32());
        var v4 = zone.GetProperty("edge_addresses").GetProperty("ipv4").GetString()!;
        var v6 = zone.GetProperty("edge_addresses").GetProperty("ipv6").GetString()!;
        Assert.StartsWith("198.51.100.", v4, StringComparison.Ordinal);
        Assert.StartsWith("2001:db8:100::", v6, StringComparison.Ordinal);
        Assert.True(zone.GetProperty("revision").GetInt64() > 0);

        // The change-log row carries each address once.
        await using var db = fixture.Database.CreateContext();
        var row = await db.ChangeLog.SingleAsync(c => c.Revision == zone.GetProperty("revision").GetInt64());
        var addresses = row.Zones[0].Addresses;
        Assert.Equal([v4, v6], addresses.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ZoneNames_AreCanonicalised_LowercaseWithoutTrailingDot_AndReturnedInUnicode()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Idn");
        using var client = fixture.Api.As(token);
        var label = $"b{Guid.NewGuid():N}"[..10];

        var zone = await CreateZoneAsync(client, account, $"Bücher.{label}.Example.");

        Assert.Equal($"bücher.{label}.example", zone.GetProperty("name").GetString());
    }

    [Fact]
    public async Task InternationalisedName_IsStoredAsPunycode_ReturnedInUnicodeEverywhere_AndFoundByEitherForm()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Idn everywhere");
        using var client = fixture.Api.As(token);
        var label = $"m{Guid.NewGuid():N}"[..10];
        var unicode = $"münchen-{label}.example";
        var punycode = $"xn--mnchen-{label}-22b.example";

        var created = await CreateZoneAsync(client, account, unicode);
        var id = created.GetProperty("id").GetString();

        Assert.Equal(unicode, created.GetProperty("name").GetString());
        var got = await ResultAsync(await client.GetAsync($"/client/v4/zones/{id}"));
        Assert.Equal(unicode, got.GetProperty("name").GetString());
        var patched = await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{id}", new { paused = true }));
        Assert.Equal(unicode, patched.GetProperty("name").GetString());
        foreach (var query in new[] { unicode, punycode, punycode.ToUpperInvariant() })
        {
            var listed = await ResultAsync(await client.GetAsync($"/client/v4/zones?name={Uri.EscapeDataString(query)}"));
            Assert.Equal([unicode], listed.EnumerateArray().Select(z => z.GetProperty("name").GetString()));
        }

        await using var db = fixture.Database.CreateContext();
        Assert.Equal(punycode, await db.Zones.IgnoreQueryFilters().Where(z => z.Id == id).Select(z => z.Name).SingleAsync());

        // Uniqueness stays on the canonical form: the punycode spelling is the same zone.
        var duplicate = await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name = punycode });
        await EnvelopeAssertions.AssertFailureAsync(duplicate, HttpStatusCode.BadRequest, 1061);
    }

    [Fact]
    public async Task NameFilter_SupportsEveryOperator_MatchingTheUnicodeForm_CaseInsensitivelyUnlessAskedNotTo()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Name operators");
        using var client = fixture.Api.As(token);
        var label = $"n{Guid.NewGuid():N}"[..10];
        var munich = $"münchen-{label}.example";
        var berlin = $"berlin-{label}.example";
        await CreateZoneAsync(client, account, munich);
        await CreateZoneAsync(client, account, berlin);

        var cases = new (string Filter, string[] Expected)[]
        {
            ($"MÜNCHEN-{label}.example", [munich]),
            ($"equal:MÜNCHEN-{label}.EXAMPLE", [munich]),
            ($"equal:xn--mnchen-{label}-22b.example", [munich]),
            ($"not_equal:Berlin-{label}.example", [munich]),
            ("contains:ÜNCH", [munich]),
            ("contains:xn--mnchen", [munich]),
            ("starts_with:MÜN", [munich]),
            ($"ends_with:-{label}.EXAMPLE", [berlin, munich]),
            ("contains_case_sensitive:ÜNCH", []),
            ("contains_case_sensitive:ünch", [munich]),
            ("starts_with_case_sensitive:Berlin", []),
            ("starts_with_case_sensitive:berlin", [berlin]),
            ($"ends_with_case_sensitive:{label}.EXAMPLE", []),
            ($"ends_with_case_sensitive:{label}.example", [berlin, munich]),
            ($"equal_case_sensitive:MÜNCHEN-{label}.example", []),
            ($"equal_case_sensitive:{munich}", [munich]),
            ($"not_equal_case_sensitive:{munich}", [berlin]),
        };

        foreach (var (filter, expected) in cases)
        {
            var listed = await ResultAsync(await client.GetAsync($"/client/v4/zones?name={Uri.EscapeDataString(filter)}&order=name"));
            Assert.True(expected.SequenceEqual(listed.EnumerateArray().Select(z => z.GetProperty("name").GetString()!)),
                $"name={filter}: expected [{string.Join(", ", expected)}], got {listed}");
        }
    }

    [Theory]
    [InlineData("ex\u202Eample.com", "U+202E")]
    [InlineData("ex\u200Bample.com", "U+200B")]
    [InlineData("example.com\n", "U+000A")]
    [InlineData("\u2603.example.com", "IDNA2008 disallows")]
    [InlineData("\uD83D\uDE00.example.com", "IDNA2008 disallows")]
    [InlineData("192.0.2.1", "IP address")]
    [InlineData("2001:db8::1", "IP address")]
    [InlineData("ab--cd.example.com", "CheckHyphens")]
    [InlineData("a\u200Db.example.com", "CONTEXTJ")]
    [InlineData("\u05D0a.example.com", "Bidi rule")]
    [InlineData("\uFF45xample.com", "more than letter case")]
    [InlineData("example.123", "all digits")]
    public async Task ZoneName_BreakingAnIdnaRule_Is400With1004_NamingTheRule_AndCreatesNothing(string escaped, string rule)
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Idna rules");
        using var client = fixture.Api.As(token);
        var name = System.Text.RegularExpressions.Regex.Unescape(escaped);

        var response = await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name });

        var body = await EnvelopeAssertions.AssertFailureAsync(response, HttpStatusCode.BadRequest, 1004);
        Assert.Contains(rule, body.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        await using var db = fixture.Database.CreateContext();
        Assert.Equal(0, await db.Zones.IgnoreQueryFilters().CountAsync(z => z.AccountId == account));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("a..example.com")]
    [InlineData("under_score.example.com")]
    [InlineData("")]
    [InlineData("x.y")]
    public async Task InvalidZoneName_Is400With1004_AndCreatesNothing(string name)
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Bad names");
        using var client = fixture.Api.As(token);
        var tooLong = string.Join('.', Enumerable.Repeat(new string('a', 60), 5));

        foreach (var candidate in name == "x.y" ? [tooLong] : new[] { name })
        {
            var response = await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = account }, name = candidate });
            await EnvelopeAssertions.AssertFailureAsync(response, HttpStatusCode.BadRequest, 1004);
        }

        await using var db = fixture.Database.CreateContext();
        Assert.Equal(0, await db.Zones.IgnoreQueryFilters().CountAsync(z => z.AccountId == account));
    }

    [Fact]
    public async Task DuplicateZoneName_Is400With1061_AcrossTenants_AndAfterDeleteTheNameIsFreeAgain()
    {
        var (accountA, tokenA) = await fixture.Api.NewTenantAsync("Dup A");
        var (accountB, tokenB) = await fixture.Api.NewTenantAsync("Dup B");
        using var a = fixture.Api.As(tokenA);
        using var b = fixture.Api.As(tokenB);
        var name = Unique();
        var zone = await CreateZoneAsync(a, accountA, name);

        var duplicate = await b.PostAsJsonAsync("/client/v4/zones", new { account = new { id = accountB }, name = name.ToUpperInvariant() });
        await EnvelopeAssertions.AssertFailureAsync(duplicate, HttpStatusCode.BadRequest, 1061);

        await ResultAsync(await a.DeleteAsync($"/client/v4/zones/{zone.GetProperty("id").GetString()}"));
        var again = await CreateZoneAsync(b, accountB, name);
        Assert.Equal(name, again.GetProperty("name").GetString());
    }

    [Fact]
    public async Task GetPatchDelete_RoundTrip()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Crud");
        using var client = fixture.Api.As(token);
        var id = (await CreateZoneAsync(client, account, Unique())).GetProperty("id").GetString();

        var got = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones/{id}"));
        Assert.Equal(id, got.GetProperty("result").GetProperty("id").GetString());

        var patched = await EnvelopeAssertions.AssertSuccessAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{id}", new { paused = true }));
        Assert.True(patched.GetProperty("result").GetProperty("paused").GetBoolean());

        var deleted = await EnvelopeAssertions.AssertSuccessAsync(await client.DeleteAsync($"/client/v4/zones/{id}"));
        Assert.Equal(["id"], deleted.GetProperty("result").EnumerateObject().Select(p => p.Name));
        Assert.Equal(id, deleted.GetProperty("result").GetProperty("id").GetString());

        await EnvelopeAssertions.AssertFailureAsync(await client.GetAsync($"/client/v4/zones/{id}"), HttpStatusCode.NotFound, 1001);
    }

    [Fact]
    public async Task DeletedZone_AddressesGoToQuarantine_AndTheDeleteIsInTheChangeLog()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Quarantine");
        using var client = fixture.Api.As(token);
        var zone = await CreateZoneAsync(client, account, Unique());
        var id = zone.GetProperty("id").GetString()!;
        var v4 = zone.GetProperty("edge_addresses").GetProperty("ipv4").GetString();

        await ResultAsync(await client.DeleteAsync($"/client/v4/zones/{id}"));
        var next = await CreateZoneAsync(client, account, Unique());

        Assert.NotEqual(v4, next.GetProperty("edge_addresses").GetProperty("ipv4").GetString());
        await using var db = fixture.Database.CreateContext();
        var released = await db.EdgeAddresses.SingleAsync(a => a.Address == v4);
        Assert.Null(released.ZoneId);
        Assert.True(released.ReusableAfter > DateTime.UtcNow.AddHours(23));
        var last = (await db.ChangeLog.OrderByDescending(c => c.Revision).ToListAsync()).First(c => c.Zones.Any(z => z.ZoneId == id));
        Assert.Empty(last.Zones[0].Addresses);
    }

    [Fact]
    public async Task Paging_PastTheEndIsEmpty_AndTotalCountRespectsFilters()
    {
        var (account, token) = await fixture.Api.NewTenantAsync("Paging");
        using var client = fixture.Api.As(token);
        var tag = $"p{Guid.NewGuid():N}"[..8];
        for (var i = 0; i < 7; i++)
        {
            await CreateZoneAsync(client, account, $"{tag}-{i}.example.org");
        }

        await CreateZoneAsync(client, account, Unique("example.net"));

        var page2 = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name=contains:{tag}&per_page=5&page=2"));
        Assert.Equal(2, page2.GetProperty("result").GetArrayLength());
        var info = page2.GetProperty("result_info");
        Assert.Equal((2, 5, 2, 7, 2), (info.GetProperty("page").GetInt32(), info.GetProperty("per_page").GetInt32(), info.GetProperty("count").GetInt32(),
            info.GetProperty("total_count").GetInt32(), info.GetProperty("total_pages").GetInt32()));

        var past = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name=contains:{tag}&per_page=5&page=9"));
        Assert.Equal(0, past.GetProperty("result").GetArrayLength());
        Assert.Equal(7, past.GetProperty("result_info").GetProperty("total_count").GetInt32());

        var all = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync("/client/v4/zones?per_page=50"));
        Assert.Equal(8, all.GetProperty("result_info").GetProperty("total_count").GetInt32());

        var exact = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name={tag}-3.example.org"));
        Assert.Equal(1, exact.GetProperty("result_info").GetProperty("total_count").GetInt32());

        var typed = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name=contains:{tag}&type=partial,full&type=secondary"));
        Assert.Equal(7, typed.GetProperty("result_info").GetProperty("total_count").GetInt32());
        var none = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name=contains:{tag}&type=partial"));
        Assert.Equal(0, none.GetProperty("result_info").GetProperty("total_count").GetInt32());

        var any = await EnvelopeAssertions.AssertSuccessAsync(await client.GetAsync($"/client/v4/zones?name=starts_with:{tag}-1&account.name=nobody&match=any"));
        Assert.Equal(1, any.GetProperty("result_info").GetProperty("total_count").GetInt32());
    }

    [Theory]
    [InlineData("per_page=0")]
    [InlineData("per_page=-1")]
    [InlineData("per_page=abc")]
    [InlineData("page=0")]
    [InlineData("page=abc")]
    public async Task Paging_OutOfBounds_Is400(string query)
    {
        var (_, token) = await fixture.Api.NewTenantAsync("Bounds");
        using var client = fixture.Api.As(token);

        var response = await client.GetAsync($"/client/v4/zones?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.GetProperty("success").GetBoolean());
    }
}
