using System.Globalization;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Canonical zone names: IDNA to punycode, lowercase, no trailing dot, at least two
/// labels of letters, digits and hyphens, at most 253 characters.
/// </summary>
public static class ZoneNames
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    public static bool TryCanonicalize(string? raw, out string name, out string error)
    {
        name = "";
        error = "";
        var trimmed = raw?.Trim() ?? "";
        if (trimmed.EndsWith('.'))
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.Length == 0)
        {
            error = "name is required";
            return false;
        }

        try
        {
            name = Idn.GetAscii(trimmed).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            error = $"'{raw}' is not a valid domain name";
            return false;
        }

        var labels = name.Split('.');
        if (name.Length > 253 || labels.Length < 2 || labels.Any(l => l.Length is 0 or > 63))
        {
            error = $"'{raw}' is not a valid zone name: it needs at least two labels of 1-63 characters and at most 253 characters";
            return false;
        }

        return true;
    }
}
