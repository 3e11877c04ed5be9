using ControlPlane.Api.Infrastructure;

namespace ControlPlane.Api.Tests;

/// <summary>The IDNA2008 rules ICU leaves to us, as pure functions over the platform's Unicode properties.</summary>
public sealed class IdnaRulesTests
{
    [Theory]
    [InlineData("example", null)]
    [InlineData("a-b", null)]
    [InlineData("-ab", "starts or ends with a hyphen")]
    [InlineData("ab-", "starts or ends with a hyphen")]
    [InlineData("ab--cd", "third and fourth positions")]
    public void HyphenViolation_FollowsCheckHyphens(string label, string? expected) =>
        AssertViolation(expected, IdnaRules.HyphenViolation(label));

    [Theory]
    [InlineData("bücher", null)]
    [InlineData("straße", null)]
    [InlineData("日本語", null)]
    [InlineData("☃", "U+2603 (OtherSymbol)")]
    [InlineData("\U0001F600", "U+1F600 (OtherSymbol)")]
    [InlineData("a+b", "U+002B (MathSymbol)")]
    [InlineData("a^b", "U+005E (ModifierSymbol)")]
    [InlineData("a$b", "U+0024 (CurrencySymbol)")]
    [InlineData("a_b", "U+005F (ConnectorPunctuation)")]
    [InlineData("a\u0640b", "U+0640")]
    public void DisallowedCodePoint_RefusesWhatIdna2008Disallows(string label, string? expected) =>
        AssertViolation(expected, IdnaRules.DisallowedCodePoint(label));

    [Theory]
    // ZWJ and ZWNJ after a virama (Devanagari KA + VIRAMA).
    [InlineData("\u0915\u094D\u200D\u0937", null)]
    [InlineData("\u0915\u094D\u200C\u0937", null)]
    // ZWNJ between a dual-joining and a dual-joining Arabic letter (BEH, ZWNJ, BEH).
    [InlineData("\u0628\u200C\u0628", null)]
    [InlineData("a\u200Db", "U+200D (ZERO WIDTH JOINER)")]
    [InlineData("a\u200Cb", "U+200C (ZERO WIDTH NON-JOINER)")]
    [InlineData("\u200C\u0628", "U+200C")]
    public void ContextJViolation_FollowsRfc5892AppendixA1AndA2(string label, string? expected) =>
        AssertViolation(expected, IdnaRules.ContextJViolation(label, IcuProperties.JoiningTypeOf, IcuProperties.CombiningClassOf));

    [Theory]
    [InlineData("l\u00B7l", null)]
    [InlineData("a\u00B7b", "U+00B7")]
    [InlineData("\u30A2\u30FB\u30A2", null)]
    [InlineData("a\u30FBb", "U+30FB")]
    [InlineData("\u0661\u06F1", "U+0661")]
    public void ContextOViolation_FollowsRfc5892AppendixA3ToA9(string label, string? expected) =>
        AssertViolation(expected, IdnaRules.ContextOViolation(label, IcuProperties.ScriptOf));

    [Theory]
    [InlineData("example.com", null)]
    [InlineData("\u05D0\u05D1.com", null)]
    [InlineData("\u05D0\u05D11.com", null)]
    [InlineData("\u05D0a.com", "rule 2")]
    [InlineData("\u05D0-.com", "rule 3")]
    [InlineData("\u0627\u0661\u0031.com", "rule 4")]
    [InlineData("a\u05D0.com", "rule 5")]
    [InlineData("1a.\u05D0", "rule 1")]
    [InlineData("a-.\u05D0", "rule 6")]
    public void BidiViolation_FollowsRfc5893_InBidiDomainNamesOnly(string name, string? expected) =>
        AssertViolation(expected, IdnaRules.BidiViolation(name.Split('.'), IcuProperties.BidiClassOf));

    [Theory]
    [InlineData("MÜNCHEN.Example.", "xn--mnchen-3ya.example")]
    [InlineData("xn--mnchen-3ya.example", "xn--mnchen-3ya.example")]
    [InlineData("Bücher.example", "xn--bcher-kva.example")]
    [InlineData("u\u0308ber.example", "xn--ber-goa.example")]
    public void ZoneNames_Canonicalise_ToLowercaseALabels(string raw, string canonical)
    {
        Assert.True(ZoneNames.TryCanonicalize(raw, out var name, out var error), error);
        Assert.Equal(canonical, name);
    }

    [Fact]
    public void ZoneNames_ToUnicode_DecodesALabels() =>
        Assert.Equal("münchen.example", ZoneNames.ToUnicode("xn--mnchen-3ya.example"));

    private static void AssertViolation(string? expected, string? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.NotNull(actual);
            Assert.Contains(expected, actual, StringComparison.Ordinal);
        }
    }
}
