using System.Runtime.InteropServices;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Bidi_Class values (ICU's <c>UCharDirection</c>), as RFC 5893 names them.</summary>
public enum BidiClass
{
    L = 0, R = 1, EN = 2, ES = 3, ET = 4, AN = 5, CS = 6, B = 7, S = 8, WS = 9, ON = 10,
    LRE = 11, LRO = 12, AL = 13, RLE = 14, RLO = 15, PDF = 16, NSM = 17, BN = 18,
    FSI = 19, LRI = 20, RLI = 21, PDI = 22,
}

/// <summary>Joining_Type values (ICU's <c>UJoiningType</c>), as RFC 5892 appendix A.1 names them.</summary>
public enum JoiningType
{
    U = 0, C = 1, D = 2, L = 3, R = 4, T = 5,
}

/// <summary>
/// The Unicode character properties the IDNA2008 context and Bidi rules need and .NET does not
/// expose publicly (Bidi_Class, Joining_Type, Canonical_Combining_Class, Script), read from the
/// platform's ICU (<c>libicuuc</c>, the same library <see cref="System.Globalization.IdnMapping"/>
/// uses on Linux) through <c>u_getIntPropertyValue</c>. Throws <see cref="PlatformNotSupportedException"/>
/// at first use when no ICU is installed.
/// </summary>
public static class IcuProperties
{
    // UProperty values from ICU's uchar.h.
    private const int BidiClassProperty = 0x1000;
    private const int CanonicalCombiningClassProperty = 0x1002;
    private const int JoiningTypeProperty = 0x1007;
    private const int ScriptProperty = 0x100A;

    /// <summary>Canonical_Combining_Class of a virama (RFC 5892 appendix A.1 and A.2).</summary>
    public const int Virama = 9;

    /// <summary>ICU's UScriptCode values for the scripts the CONTEXTO rules name.</summary>
    public const int Greek = 14, Han = 17, Hebrew = 19, Hiragana = 20, Katakana = 22;

    private static readonly Lazy<GetIntPropertyValue> Lookup = new(Load);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetIntPropertyValue(int codePoint, int property);

    public static BidiClass BidiClassOf(int codePoint) => (BidiClass)Lookup.Value(codePoint, BidiClassProperty);

    public static JoiningType JoiningTypeOf(int codePoint) => (JoiningType)Lookup.Value(codePoint, JoiningTypeProperty);

    public static int CombiningClassOf(int codePoint) => Lookup.Value(codePoint, CanonicalCombiningClassProperty);

    public static int ScriptOf(int codePoint) => Lookup.Value(codePoint, ScriptProperty);

    private static GetIntPropertyValue Load()
    {
        // Distributions ship libicuuc.so.<major> with symbols suffixed _<major> (or, rarely,
        // unsuffixed); probe the way .NET's own globalization shim does.
        for (var major = 99; major >= 50; major--)
        {
            if (!NativeLibrary.TryLoad($"libicuuc.so.{major}", out var library))
            {
                continue;
            }

            if (NativeLibrary.TryGetExport(library, $"u_getIntPropertyValue_{major}", out var function)
                || NativeLibrary.TryGetExport(library, "u_getIntPropertyValue", out function))
            {
                return Marshal.GetDelegateForFunctionPointer<GetIntPropertyValue>(function);
            }
        }

        throw new PlatformNotSupportedException("ICU (libicuuc) is required to validate internationalised zone names; install libicu.");
    }
}
