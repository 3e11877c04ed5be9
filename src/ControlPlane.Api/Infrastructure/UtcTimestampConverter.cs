using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Writes every <see cref="DateTimeOffset"/> of the HTTP API as RFC 3339 in UTC with a <c>Z</c>
/// (<c>2026-12-02T07:15:51.123Z</c>), as Cloudflare does and docs/api.md promises, never with
/// <c>+00:00</c>. Reading accepts any offset.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
}
