namespace ControlPlane.Api.Infrastructure;

/// <summary>Reads <c>Authorization: Bearer …</c> the same way for every scheme.</summary>
public static class Bearer
{
    public enum Outcome
    {
        Missing,
        Malformed,
        Present,
    }

    public static Outcome TryRead(HttpRequest request, out string token)
    {
        token = "";
        string? header = request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return Outcome.Missing;
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header[7..].Trim() is not { Length: > 0 } value || value.Contains(' ', StringComparison.Ordinal))
        {
            return Outcome.Malformed;
        }

        token = value;
        return Outcome.Present;
    }
}
