using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Testing;
using Npgsql;
using Xunit.Abstractions;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>
/// Walks the committed OpenAPI document (openapi/ControlPlane.Api.json, which OpenApiTests keeps
/// equal to what the API serves) and sends every operation bad input, one thing wrong at a time,
/// with everything else valid and a token holding every permission group, so each request reaches
/// as far into the API as it can: every query parameter and every string field of the body gets
/// NUL, lone surrogates, control characters and a 100,000-character value; every date its minimum
/// and maximum; every array a null element; every path parameter malformed ids; the Authorization
/// header malformed credentials. Every answer must be a 4xx in the envelope, and no table may
/// change (failed writes leave their audit entry, by design) nor the change log move. An operation,
/// parameter or schema the walker cannot read fails the test instead of being skipped.
/// </summary>
public sealed class BadInputWalkerTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string Placeholder = "@@walker@@";

    /// <summary>Bad values for a string, as JSON literals and as raw (percent-encoded) query or path text.</summary>
    private static readonly (string Label, string Json, string Url)[] BadStrings =
    [
        ("NUL", "\"a\\u0000b\"", "a%00b"),
        ("lone high surrogate", "\"\\ud800\"", "%ED%A0%80"),
        ("lone low surrogate", "\"x\\udfffy\"", "x%ED%BF%BFy"),
        ("U+0001", "\"\\u0001\"", "%01"),
        ("ESC", "\"\\u001b[31m\"", "%1B%5B31m"),
        ("DEL", "\"\\u007f\"", "%7F"),
        // System.Uri holds at most 65,519 characters, so an overlong URL value is 60,000 (the API's limit is 1,024).
        ("overlong (100k in a body, 60k in a URL)", "\"" + new string('a', 100_000) + "\"", new string('a', 60_000)),
    ];

    private static readonly (string Label, string Json, string Url)[] BadDates =
    [
        ("minimum date", "\"0001-01-01T00:00:00Z\"", "0001-01-01T00%3A00%3A00Z"),
        ("maximum date", "\"9999-12-31T23:59:59Z\"", "9999-12-31T23%3A59%3A59Z"),
    ];

    private static readonly (string Label, string Url)[] BadIds =
    [
        // Kestrel refuses an encoded NUL in the path itself, before any API code runs (see KestrelRefusesBare).
        ("NUL", "%00"),
        ("60k characters", new string('a', 60_000)),
        ("not hex", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
        ("unicode", "%C3%A9%E2%82%AC" + new string('0', 30)),
        ("control character", "%01" + new string('0', 31)),
    ];

    /// <summary>Malformed Authorization values; none holds NUL (no HTTP stack sends one).</summary>
    private static readonly (string Label, string Value)[] BadCredentials =
    [
        ("'Bearer' alone", "Bearer"),
        ("two spaces inside the credential", "Bearer cpat_abc  def"),
        ("non-ASCII bytes", "Bearer cpat_t\u00f6k\u00e9n\u4e2d"),
        ("100k characters", "Bearer " + new string('x', 100_000)),
        ("another scheme", "Basic dXNlcjpwYXNz"),
    ];

    private readonly TestCertificates certificates = new();
    private TestDatabase database = null!;
    private TestVirtualHost vhost = null!;
    private ApiFactory api = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateMigratedAsync();
        vhost = await TestVirtualHost.CreateAsync();
        // About a thousand requests from one token: the rate limiter must not answer them instead of the API.
        api = new ApiFactory(certificates, database.ConnectionString, vhost.AmqpUri,
            new Dictionary<string, string?> { ["RateLimit:Capacity"] = "1000000", ["RateLimit:RefillPerSecond"] = "100000" });
        api.StartServer();
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await vhost.DisposeAsync();
        await database.DisposeAsync();
    }

    public void Dispose() => certificates.Dispose();

    private sealed record Case(string Operation, string Input, string Label, HttpMethod Method, string Path, string? Body, string Authorization)
    {
        public override string ToString() => $"{Operation} {Input} = {Label}";
    }

    [Fact]
    public async Task EveryOperation_AnswersBadInputWith4xxInTheEnvelope_AndChangesNothing()
    {
        var context = await SetUpAsync();
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepositoryRoot, "openapi", "ControlPlane.Api.json")))!;
        var cases = new List<Case>();
        var operations = new List<string>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var name = $"{method.ToUpperInvariant()} {path}";
                operations.Add(name);
                var generated = CasesOf(name, new HttpMethod(method.ToUpperInvariant()), path, operation!.AsObject(), document, context).ToList();
                Assert.True(generated.Count > 0, $"{name}: the walker made no case for it");
                cases.AddRange(generated);
            }
        }

        Assert.True(operations.Count >= 25, $"only {operations.Count} operations in the document");
        var handler = certificates.CreateTrustingHandler();
        // Lets the non-ASCII credential go out as the raw UTF-8 bytes a broken client would send.
        handler.RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8;
        using var client = new HttpClient(handler) { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var baseline = await DatabaseState.ReadAsync(connection);
        var failures = new List<string>();
        foreach (var test in cases)
        {
            var problem = await SendAsync(client, test);
            var changes = (await DatabaseState.ReadAsync(connection)).ChangesSince(baseline);
            if (changes.Count > 0)
            {
                problem = (problem is null ? "" : problem + "; ") + "changed the database: " + string.Join(", ", changes);
                baseline = await DatabaseState.ReadAsync(connection);
            }

            if (problem is not null)
            {
                failures.Add($"{test}: {problem}");
            }
        }

        output.WriteLine($"{cases.Count} cases over {operations.Count} operations");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases failed:\n" + string.Join("\n", failures));

        // The one allowed 2xx: RFC 6750 lets "Bearer" be followed by more than one space, so this credential is valid.
        using var twoSpaces = new HttpRequestMessage(HttpMethod.Get, "/client/v4/user/tokens/verify");
        twoSpaces.Headers.TryAddWithoutValidation("Authorization", "Bearer  " + context.Token);
        await EnvelopeAssertions.AssertSuccessAsync(await client.SendAsync(twoSpaces));
    }

    private sealed record WalkContext(string Account, string Token, string TokenId, string Zone, string DataCenterCredential);

    private async Task<WalkContext> SetUpAsync()
    {
        var customers = new CustomerApiClient(api);
        await customers.EnsurePoolsAsync();
        var (account, token) = await customers.NewTenantAsync("Walker");
        using var client = customers.As(token);
        var zone = (await CreateZoneAsync(client, account, "walker.example.com")).GetProperty("id").GetString()!;
        var other = await ResultAsync(await client.PostAsync($"/client/v4/accounts/{account}/tokens",
            new StringContent(ValidBody("TokenRequest", account), Encoding.UTF8, "application/json")));
        using var op = customers.Operator();
        var dataCenter = await ResultAsync(await op.PostAsync("/operator/v1/data_centers",
            new StringContent("""{"code":"wlk","name":"Walker"}""", Encoding.UTF8, "application/json")));
        return new WalkContext(account, token, other.GetProperty("id").GetString()!, zone, dataCenter.GetProperty("agent_credential").GetString()!);
    }

    private IEnumerable<Case> CasesOf(string name, HttpMethod method, string path, JsonObject operation, JsonNode document, WalkContext context)
    {
        var credential = path.StartsWith("/client/v4/", StringComparison.Ordinal) ? context.Token
            : path.StartsWith("/operator/v1/", StringComparison.Ordinal) ? api.OperatorToken
            : path.StartsWith("/edge/v1/", StringComparison.Ordinal) ? context.DataCenterCredential
            : throw new InvalidOperationException($"{name}: which credential does this route take?");
        var authorization = "Bearer " + credential;
        var parameters = operation["parameters"]?.AsArray().Select(p => p!.AsObject()).ToList() ?? [];
        var pathValues = parameters.Where(p => (string?)p["in"] == "path").ToDictionary(p => (string)p["name"]!, p => ValidPathValue(name, (string)p["name"]!, context));
        var unknown = parameters.Where(p => (string?)p["in"] is not ("path" or "query")).Select(p => (string?)p["name"]).ToList();
        Assert.True(unknown.Count == 0, $"{name}: parameters the walker cannot place: {string.Join(", ", unknown)}");

        string? body = null;
        JsonObject? bodySchema = null;
        if (operation["requestBody"] is { } requestBody)
        {
            var reference = (string?)requestBody["content"]?["application/json"]?["schema"]?["$ref"]
                ?? throw new InvalidOperationException($"{name}: the request body is not a JSON schema reference");
            bodySchema = Resolve(document, reference);
            body = ValidBody(reference.Split('/')[^1], context.Account);
        }

        string PathWith(string? parameter, string? value) =>
            pathValues.Aggregate(path, (p, kv) => p.Replace("{" + kv.Key + "}", kv.Key == parameter ? value : kv.Value, StringComparison.Ordinal));
        var validPath = PathWith(null, null);

        foreach (var parameter in pathValues.Keys)
        {
            foreach (var (label, url) in BadIds)
            {
                yield return new Case(name, $"path {parameter}", label, method, PathWith(parameter, url), body, authorization);
            }
        }

        foreach (var parameter in parameters.Where(p => (string?)p["in"] == "query"))
        {
            var query = (string)parameter["name"]!;
            var schema = Resolve(document, parameter["schema"]!.AsObject());
            var values = IsDate(schema) ? BadStrings.Concat(BadDates) : BadStrings;
            Assert.True(TypeOf(schema) is "string" or "integer" or "boolean" or "array", $"{name}: query parameter {query} has a type the walker does not know");
            foreach (var (label, _, url) in values)
            {
                yield return new Case(name, $"query {query}", label, method, $"{validPath}?{Uri.EscapeDataString(query)}={url}", body, authorization);
            }
        }

        if (bodySchema is not null)
        {
            var fields = new List<(List<object> Path, string Kind)>();
            FieldsOf(name, document, bodySchema, [], JsonNode.Parse(body!), fields, 0);
            foreach (var (fieldPath, kind) in fields)
            {
                var where = FieldName(fieldPath);
                var literals = kind switch
                {
                    "array" => [("null element", "null")],
                    "date" => BadStrings.Concat(BadDates).Select(v => (v.Label, v.Json)),
                    _ => BadStrings.Select(v => (v.Label, v.Json)),
                };
                foreach (var (label, json) in literals)
                {
                    yield return new Case(name, $"body {where}", label, method, validPath, Mutate(body!, fieldPath, kind, json), authorization);
                }
            }
        }

        foreach (var (label, value) in BadCredentials)
        {
            yield return new Case(name, "Authorization", label, method, validPath, body, value);
        }
    }

    /// <summary>Valid values for path parameters: the walker's own objects, so only the mutated input is wrong.</summary>
    private static string ValidPathValue(string operation, string parameter, WalkContext context) => parameter switch
    {
        "zone_id" => context.Zone,
        "account_id" => context.Account,
        "token_id" => context.TokenId,
        "setting_id" => "disable_http_ports",
        _ => throw new InvalidOperationException($"{operation}: no valid value known for path parameter {parameter}"),
    };

    /// <summary>A valid body per request schema; a new schema must be added here, or the test fails.</summary>
    private static string ValidBody(string schema, string account) => schema switch
    {
        "CreateZoneRequest" => $$"""{"account":{"id":"{{account}}"},"name":"walker-new.example.com","type":"full"}""",
        "PatchZoneRequest" => """{"paused":true}""",
        "SettingValueRequest" => """{"value":"on"}""",
        "BulkSettingsRequest" => """{"items":[{"id":"disable_http_ports","value":"on"}]}""",
        "TokenRequest" => $$$"""
            {"name":"walker","policies":[{"id":"p1","effect":"allow","permission_groups":[{"id":"{{{ZoneRead}}}","name":"Zone Read"}],
             "resources":{"com.cloudflare.api.account.{{{account}}}":"*"}}],"not_before":"2020-01-01T00:00:00Z","expires_on":"2999-01-01T00:00:00Z",
             "condition":{"request_ip":{"in":["192.0.2.0/24"],"not_in":["192.0.2.1"]} } }
            """,
        "CreateAccountRequest" => """{"name":"walker account"}""",
        "RegisterDataCenterRequest" => """{"code":"wk2","name":"Walker two"}""",
        "CreatePoolRequest" => """{"cidr":"192.0.2.0/28"}""",
        _ => throw new InvalidOperationException($"no valid body known for request schema {schema}: add one to ValidBody"),
    };

    /// <summary>Every string, date, array and map of the schema, with its path in the body; unknown shapes fail.</summary>
    private static void FieldsOf(string operation, JsonNode document, JsonObject schema, List<object> path, JsonNode? value, List<(List<object>, string)> fields, int depth)
    {
        Assert.True(depth < 10, $"{operation}: the body schema nests too deep at {FieldName(path)}");
        schema = Resolve(document, schema);
        var type = TypeOf(schema);
        switch (type)
        {
            case "object" when schema["properties"] is JsonObject properties:
                foreach (var (property, propertySchema) in properties)
                {
                    FieldsOf(operation, document, propertySchema!.AsObject(), [.. path, property], value?[property], fields, depth + 1);
                }

                break;
            case "object" when schema["additionalProperties"] is JsonObject values:
                // A map (token resources): its keys are strings too, and so is each value.
                fields.Add(([.. path, Placeholder], "key"));
                foreach (var key in value?.AsObject().Select(p => p.Key) ?? [])
                {
                    FieldsOf(operation, document, values, [.. path, key], value![key], fields, depth + 1);
                }

                break;
            case "array":
                fields.Add((path, "array"));
                FieldsOf(operation, document, schema["items"]!.AsObject(), [.. path, 0], value?.AsArray().FirstOrDefault(), fields, depth + 1);
                break;
            case "string":
                fields.Add((path, IsDate(schema) ? "date" : "string"));
                break;
            case "any":
                // A raw JSON value (a setting's value): clients send a string there.
                fields.Add((path, "string"));
                break;
            case "boolean" or "integer" or "number":
                break;
            default:
                Assert.Fail($"{operation}: the walker cannot read the schema at {FieldName(path)}: {schema.ToJsonString()}");
                break;
        }
    }

    /// <summary>The body with one field replaced by a raw JSON literal (an array gets it appended; a map gets it as a key).</summary>
    private static string Mutate(string body, List<object> path, string kind, string literal)
    {
        var root = JsonNode.Parse(body)!;
        var parent = root;
        foreach (var segment in path.SkipLast(1))
        {
            var next = segment is int i ? parent.AsArray()[i] : parent[(string)segment];
            if (next is null)
            {
                next = new JsonObject();
                parent[(string)segment] = next;
            }

            parent = next;
        }

        var last = path.Count == 0 ? null : path[^1];
        if (kind == "array")
        {
            var array = last is null ? root.AsArray() : last is int index ? parent.AsArray()[index]?.AsArray() : parent[(string)last]?.AsArray();
            if (array is null)
            {
                array = [];
                parent[(string)last!] = array;
            }

            array.Add(Placeholder);
        }
        else if (kind == "key")
        {
            parent.AsObject()[Placeholder] = "*";
            return root.ToJsonString().Replace($"\"{Placeholder}\":", literal + ":", StringComparison.Ordinal);
        }
        else if (last is int element)
        {
            parent.AsArray()[element] = Placeholder;
        }
        else
        {
            parent[(string)last!] = Placeholder;
        }

        return root.ToJsonString().Replace($"\"{Placeholder}\"", literal, StringComparison.Ordinal);
    }

    private static JsonObject Resolve(JsonNode document, string reference) =>
        document["components"]!["schemas"]![reference.Split('/')[^1]]?.AsObject()
        ?? throw new InvalidOperationException($"unresolved schema reference {reference}");

    /// <summary>Follows a $ref and picks the non-null branch of a nullable oneOf.</summary>
    private static JsonObject Resolve(JsonNode document, JsonObject schema)
    {
        for (var i = 0; i < 10; i++)
        {
            if ((string?)schema["$ref"] is { } reference)
            {
                schema = Resolve(document, reference);
            }
            else if (schema["oneOf"] is JsonArray branches)
            {
                schema = branches.Select(b => b!.AsObject()).Single(b => (string?)b["type"] != "null");
            }
            else
            {
                return schema;
            }
        }

        throw new InvalidOperationException($"schema references loop: {schema.ToJsonString()}");
    }

    private static string TypeOf(JsonObject schema) => schema["type"] switch
    {
        null when schema.Count == 0 => "any",
        null => "unknown",
        // Minimal APIs describe an int query parameter as ["integer", "string"] with a pattern.
        JsonArray types when types.Any(t => (string?)t == "integer") => "integer",
        JsonArray types => types.Select(t => (string)t!).First(t => t != "null"),
        var single => (string)single!,
    };

    private static bool IsDate(JsonObject schema) => (string?)schema["format"] == "date-time";

    private static string FieldName(List<object> path) =>
        path.Count == 0 ? "(body)" : string.Concat(path.Select((s, i) => s is int n ? $"[{n}]" : (string)s == Placeholder ? "{key}" : i == 0 ? (string)s : "." + s));

    /// <summary>Sends one case; null when the answer is right, else what is wrong with it.</summary>
    private static async Task<string?> SendAsync(HttpClient client, Case test)
    {
        using var request = new HttpRequestMessage(test.Method, test.Path);
        request.Headers.TryAddWithoutValidation("Authorization", test.Authorization);
        if (test.Body is not null)
        {
            request.Content = new StringContent(test.Body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            return $"no answer ({e.Message})";
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            if (KestrelRefusesBare(test))
            {
                return status == 400 && text.Length == 0 ? null : $"expected Kestrel's bare 400, got {status} {Shorten(text)}";
            }

            if (status is < 400 or >= 500)
            {
                return $"status {status}: {Shorten(text)}";
            }

            return EnvelopeProblem(response, text) is { } problem ? $"status {status}, {problem}: {Shorten(text)}" : null;
        }
    }

    /// <summary>
    /// The one input the API never sees: Kestrel refuses a path holding an encoded NUL itself, with a
    /// bare 400 and no body, before routing or any middleware. It still is a 4xx and changes nothing.
    /// </summary>
    private static bool KestrelRefusesBare(Case test) => test.Input.StartsWith("path ", StringComparison.Ordinal) && test.Label == "NUL";

    private static string? EnvelopeProblem(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return $"content type {response.Content.Headers.ContentType}";
        }

        try
        {
            var body = JsonDocument.Parse(text).RootElement;
            if (!body.TryGetProperty("success", out var success) || success.ValueKind != JsonValueKind.False)
            {
                return "success is not false";
            }

            if (!body.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array || errors.GetArrayLength() == 0)
            {
                return "no errors";
            }

            foreach (var error in errors.EnumerateArray())
            {
                if (!error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number || !code.TryGetInt32(out var n) || n < 1000
                    || !error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String)
                {
                    return "an error is not {code: integer >= 1000, message}";
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return "the body is not JSON";
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
