using System.Globalization;
using System.Net;
using System.Text;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Zone names. The canonical (stored, unique) form is the IDNA A-label form: ASCII, punycode
/// for internationalised labels, lowercase, no trailing dot. Responses carry the Unicode form
/// (<see cref="ToUnicode"/>), as Cloudflare's do.
/// <para>
/// Validation is the platform IDNA (<see cref="IdnMapping"/> over ICU: UTS #46 nontransitional
/// processing with STD3 rules) plus what ICU does not apply as .NET calls it, from
/// <see cref="IdnaRules"/>: CheckHyphens, CheckBidi (RFC 5893), CheckJoiners (RFC 5892
/// CONTEXTJ), CONTEXTO and the code points IDNA2008 disallows (emoji and other symbols).
/// A name whose IDNA mapping changes more than letter case (ICU silently drops U+200B and
/// folds full-width letters, for example) is refused, not quietly rewritten; so are control,
/// format and whitespace characters, and IP literals. Then: at least two labels of 1-63
/// octets, at most 253 octets in the A-label form, and a top-level label that is not all digits.
/// </para>
/// </summary>
public static class ZoneNames
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>
    /// Validates <paramref name="raw"/> (Unicode or A-label form, any letter case, one optional
    /// trailing dot) and returns its canonical form; on failure <paramref name="error"/> names the
    /// rule that refused it.
    /// </summary>
    public static bool TryCanonicalize(string? raw, out string name, out string error)
    {
        name = "";
        error = Check(raw, out var canonical) is { } reason ? $"'{raw}' is not a valid zone name: {reason}" : "";
        if (error.Length > 0)
        {
            return false;
        }

        name = canonical;
        return true;
    }

    /// <summary>The Unicode form of a canonical name; the name itself if it is not valid IDNA (never throws).</summary>
    public static string ToUnicode(string canonical)
    {
        try
        {
            return Idn.GetUnicode(canonical);
        }
        catch (ArgumentException)
        {
            return canonical;
        }
    }

    private static string? Check(string? raw, out string canonical)
    {
        canonical = "";
        if (string.IsNullOrEmpty(raw))
        {
            return "name is required";
        }

        foreach (var rune in raw.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (Rune.IsWhiteSpace(rune) || category is UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                || (category is UnicodeCategory.Format && rune.Value is not (0x200C or 0x200D)))
            {
                return $"it contains U+{rune.Value:X4}, a control, format or whitespace character";
            }
        }

        var input = raw.EndsWith('.') ? raw[..^1] : raw;
        if (IPAddress.TryParse(input.Trim('[', ']'), out _))
        {
            return "it is an IP address, and a zone is a domain name";
        }

        string ascii, unicode;
        try
        {
            ascii = Idn.GetAscii(input).ToLowerInvariant();
            unicode = Idn.GetUnicode(ascii);
        }
        catch (ArgumentException)
        {
            // ICU says only "invalid"; name the rule when one of ours can.
            var labels = input.Normalize(NormalizationForm.FormC).ToLowerInvariant().Split('.');
            return labels.Where(l => !l.StartsWith("xn--", StringComparison.Ordinal)).Select(LabelViolation).FirstOrDefault(v => v is not null)
                ?? IdnaRules.BidiViolation(labels, IcuProperties.BidiClassOf)
                ?? "IDNA (UTS #46 with STD3 rules) refuses it: only letters, digits and hyphens in dot-separated labels of 1-63 characters";
        }

        var inputLabels = input.Split('.');
        var asciiLabels = ascii.Split('.');
        var unicodeLabels = unicode.Split('.');
        if (inputLabels.Length != unicodeLabels.Length)
        {
            return "IDNA mapping would change it beyond letter case (a character maps to a dot)";
        }

        for (var i = 0; i < inputLabels.Length; i++)
        {
            // An A-label must come back as itself; a U-label as itself, lowercased (and NFC).
            var sent = inputLabels[i].StartsWith("xn--", StringComparison.OrdinalIgnoreCase)
                ? (inputLabels[i].ToLowerInvariant(), asciiLabels[i])
                : (inputLabels[i].Normalize(NormalizationForm.FormC).ToLowerInvariant(), unicodeLabels[i]);
            if (!string.Equals(sent.Item1, sent.Item2, StringComparison.Ordinal))
            {
                return $"IDNA mapping would change label '{inputLabels[i]}' to '{sent.Item2}', more than letter case; send the name as it should be registered";
            }

            if (LabelViolation(unicodeLabels[i]) is { } violation)
            {
                return violation;
            }
        }

        if (IdnaRules.BidiViolation(unicodeLabels, IcuProperties.BidiClassOf) is { } bidi)
        {
            return bidi;
        }

        if (ascii.Length > 253 || asciiLabels.Length < 2 || asciiLabels.Any(l => l.Length is 0 or > 63))
        {
            return "it needs at least two labels of 1-63 characters and at most 253 characters (in its xn-- form)";
        }

        if (asciiLabels[^1].All(char.IsAsciiDigit))
        {
            return "the top-level label is all digits";
        }

        canonical = ascii;
        return null;
    }

    private static string? LabelViolation(string label) =>
        label.Length == 0 ? null
        : IdnaRules.HyphenViolation(label)
            ?? IdnaRules.DisallowedCodePoint(label)
            ?? IdnaRules.ContextJViolation(label, IcuProperties.JoiningTypeOf, IcuProperties.CombiningClassOf)
            ?? IdnaRules.ContextOViolation(label, IcuProperties.ScriptOf);
}
