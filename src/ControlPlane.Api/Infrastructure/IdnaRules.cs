using System.Globalization;
using System.Text;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The IDNA2008 checks that ICU's UTS #46 processing, as .NET calls it, does not apply (or not
/// fully): the Bidi rule (RFC 5893 section 2), the CONTEXTJ rules for U+200C and U+200D
/// (RFC 5892 appendix A.1, A.2), the CONTEXTO rules (appendix A.3-A.9), the code points
/// IDNA2008 DISALLOWS (RFC 5892 section 2 and 3) and CheckHyphens (UTS #46 section 4.1).
/// Each works on one U-label (lowercase, NFC, as IDNA mapping leaves it) and returns
/// <c>null</c> when the label passes, otherwise the reason, naming the rule. Character
/// properties come in as functions (<see cref="IcuProperties"/> in production), so the rules
/// themselves are pure.
/// </summary>
public static class IdnaRules
{
    private const int Zwnj = 0x200C;
    private const int Zwj = 0x200D;

    // RFC 5892 section 2.6 (Exceptions): PVALID and CONTEXTO code points outside the letter/digit/mark categories.
    private static readonly HashSet<int> PvalidExceptions = [0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007];
    private static readonly HashSet<int> ContextO = [0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB];

    // RFC 5892 section 2.6: letters and marks that are nevertheless DISALLOWED.
    private static readonly HashSet<int> DisallowedExceptions = [0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303B];

    /// <summary>
    /// CheckHyphens (UTS #46 section 4.1, step 2-3): no hyphen at the start or end of a label,
    /// and none in both the third and fourth position (that shape is reserved for A-labels,
    /// which reach here decoded).
    /// </summary>
    public static string? HyphenViolation(string label)
    {
        if (label.StartsWith('-') || label.EndsWith('-'))
        {
            return $"label '{label}' starts or ends with a hyphen (UTS #46 CheckHyphens)";
        }

        if (label.Length >= 4 && label[2] == '-' && label[3] == '-')
        {
            return $"label '{label}' has hyphens in its third and fourth positions, which only A-labels (xn--) may have (UTS #46 CheckHyphens)";
        }

        return null;
    }

    /// <summary>
    /// RFC 5892's derived property, in short: a label may hold lowercase letters, other
    /// letters, modifier letters, digits, combining marks and the hyphen (categories Ll, Lo,
    /// Lm, Nd, Mn, Mc), plus the listed exceptions; symbols (So: emoji; Sm, Sk, Sc),
    /// punctuation, spaces, separators, format and control characters, and Lu/Lt/Nl/No are
    /// DISALLOWED. U+200C and U+200D are left to <see cref="ContextJViolation"/>, the CONTEXTO
    /// characters to <see cref="ContextOViolation"/>.
    /// </summary>
    public static string? DisallowedCodePoint(string label)
    {
        foreach (var rune in label.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp is Zwnj or Zwj || cp == '-' || PvalidExceptions.Contains(cp) || ContextO.Contains(cp))
            {
                continue;
            }

            var category = Rune.GetUnicodeCategory(rune);
            var allowed = category is UnicodeCategory.LowercaseLetter or UnicodeCategory.OtherLetter or UnicodeCategory.ModifierLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (!allowed || DisallowedExceptions.Contains(cp))
            {
                return $"label '{label}' contains U+{cp:X4} ({category}), which IDNA2008 disallows (RFC 5892)";
            }
        }

        return null;
    }

    /// <summary>
    /// CONTEXTJ (RFC 5892 appendix A.1, A.2). U+200D (ZWJ) must follow a virama; U+200C
    /// (ZWNJ) must follow a virama, or sit between a left- or dual-joining and a right- or
    /// dual-joining character with only transparent ones in between.
    /// </summary>
    public static string? ContextJViolation(string label, Func<int, JoiningType> joiningType, Func<int, int> combiningClass)
    {
        var runes = label.EnumerateRunes().Select(r => r.Value).ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            if (runes[i] is not (Zwnj or Zwj))
            {
                continue;
            }

            if (i > 0 && combiningClass(runes[i - 1]) == IcuProperties.Virama)
            {
                continue;
            }

            if (runes[i] == Zwnj && JoinsOnBothSides(runes, i, joiningType))
            {
                continue;
            }

            return $"label '{label}' has U+{runes[i]:X4} ({(runes[i] == Zwj ? "ZERO WIDTH JOINER" : "ZERO WIDTH NON-JOINER")}) where RFC 5892 CONTEXTJ does not allow it";
        }

        return null;
    }

    private static bool JoinsOnBothSides(int[] runes, int at, Func<int, JoiningType> joiningType)
    {
        var before = at - 1;
        while (before >= 0 && joiningType(runes[before]) == JoiningType.T)
        {
            before--;
        }

        var after = at + 1;
        while (after < runes.Length && joiningType(runes[after]) == JoiningType.T)
        {
            after++;
        }

        return before >= 0 && joiningType(runes[before]) is JoiningType.L or JoiningType.D
            && after < runes.Length && joiningType(runes[after]) is JoiningType.R or JoiningType.D;
    }

    /// <summary>
    /// CONTEXTO (RFC 5892 appendix A.3-A.9): MIDDLE DOT only between two 'l'; GREEK KERAIA
    /// before a Greek character; HEBREW GERESH/GERSHAYIM after a Hebrew one; KATAKANA MIDDLE
    /// DOT only in a label with Hiragana, Katakana or Han; Arabic-Indic and Extended
    /// Arabic-Indic digits not mixed.
    /// </summary>
    public static string? ContextOViolation(string label, Func<int, int> script)
    {
        var runes = label.EnumerateRunes().Select(r => r.Value).ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            var ok = runes[i] switch
            {
                0x00B7 => i > 0 && i < runes.Length - 1 && runes[i - 1] == 'l' && runes[i + 1] == 'l',
                0x0375 => i < runes.Length - 1 && script(runes[i + 1]) == IcuProperties.Greek,
                0x05F3 or 0x05F4 => i > 0 && script(runes[i - 1]) == IcuProperties.Hebrew,
                0x30FB => runes.Any(r => r != 0x30FB && script(r) is IcuProperties.Hiragana or IcuProperties.Katakana or IcuProperties.Han),
                >= 0x0660 and <= 0x0669 => !runes.Any(r => r is >= 0x06F0 and <= 0x06F9),
                >= 0x06F0 and <= 0x06F9 => !runes.Any(r => r is >= 0x0660 and <= 0x0669),
                _ => true,
            };
            if (!ok)
            {
                return $"label '{label}' has U+{runes[i]:X4} where RFC 5892 CONTEXTO does not allow it";
            }
        }

        return null;
    }

    /// <summary>
    /// The Bidi rule (RFC 5893 section 2), applied as UTS #46 CheckBidi does: only in a Bidi
    /// domain name (one with a right-to-left character, class R, AL or AN, in any label), and
    /// then to every label of it.
    /// </summary>
    public static string? BidiViolation(IReadOnlyList<string> labels, Func<int, BidiClass> bidiClass)
    {
        var classes = labels.Select(l => l.EnumerateRunes().Select(r => bidiClass(r.Value)).ToArray()).ToList();
        if (!classes.Any(c => c.Any(b => b is BidiClass.R or BidiClass.AL or BidiClass.AN)))
        {
            return null;
        }

        for (var i = 0; i < labels.Count; i++)
        {
            if (BidiLabelViolation(classes[i]) is { } rule)
            {
                return $"label '{labels[i]}' breaks the Bidi rule of RFC 5893 ({rule})";
            }
        }

        return null;
    }

    private static string? BidiLabelViolation(BidiClass[] label)
    {
        if (label.Length == 0)
        {
            return null;
        }

        var last = label.Length - 1;
        while (last > 0 && label[last] == BidiClass.NSM)
        {
            last--;
        }

        switch (label[0])
        {
            case BidiClass.R or BidiClass.AL:
                if (label.Any(b => b is not (BidiClass.R or BidiClass.AL or BidiClass.AN or BidiClass.EN or BidiClass.ES or BidiClass.CS or BidiClass.ET or BidiClass.ON or BidiClass.BN or BidiClass.NSM)))
                {
                    return "rule 2: a right-to-left label may not contain left-to-right characters";
                }

                if (label[last] is not (BidiClass.R or BidiClass.AL or BidiClass.EN or BidiClass.AN))
                {
                    return "rule 3: a right-to-left label must end with a right-to-left character or a digit";
                }

                if (label.Contains(BidiClass.EN) && label.Contains(BidiClass.AN))
                {
                    return "rule 4: a right-to-left label may not mix European and Arabic-Indic digits";
                }

                return null;
            case BidiClass.L:
                if (label.Any(b => b is not (BidiClass.L or BidiClass.EN or BidiClass.ES or BidiClass.CS or BidiClass.ET or BidiClass.ON or BidiClass.BN or BidiClass.NSM)))
                {
                    return "rule 5: a left-to-right label may not contain right-to-left characters";
                }

                if (label[last] is not (BidiClass.L or BidiClass.EN))
                {
                    return "rule 6: a left-to-right label must end with a left-to-right character or a digit";
                }

                return null;
            default:
                return "rule 1: the first character must be a left-to-right or right-to-left letter";
        }
    }
}
