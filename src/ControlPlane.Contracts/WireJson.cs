using System.Text.Json;

namespace ControlPlane.Contracts;

/// <summary>
/// The wire form of the records in this assembly outside MassTransit's own envelope: the
/// change log's <c>zones</c> column, the edge snapshot (NDJSON) the agents read, and the
/// JSON columns that hold contract or policy records. camelCase, as <see cref="JsonSerializerDefaults.Web"/>.
/// The API's HTTP bodies use the other form (snake_case, Cloudflare's); there is no third.
/// </summary>
public static class WireJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
