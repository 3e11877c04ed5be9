using System.Runtime.InteropServices;

namespace EdgeAgent.Dataplane;

/// <summary>
/// The part of nftables' own library (<c>libnftables.so.1</c>, Debian package <c>libnftables1</c>,
/// see libnftables(3)) the agent uses: a context, buffered output and error text, and the two
/// ways to run commands, from a buffer and from a file.
/// </summary>
/// <remarks>
/// A context is not thread-safe, and its netlink socket belongs to the network namespace of
/// the thread that opened it; <see cref="NftContextThread"/> is the only caller.
/// </remarks>
internal static partial class LibNftables
{
    public const string Library = "libnftables.so.1";

    /// <summary><c>NFT_CTX_DEFAULT</c>: the only value <c>nft_ctx_new</c> accepts today.</summary>
    public const uint ContextDefault = 0;

    /// <summary><c>NFT_CTX_OUTPUT_JSON</c>: list commands print JSON (<c>nft -j</c>); input is auto-detected either way.</summary>
    public const uint OutputJson = 1 << 4;

    [LibraryImport(Library, EntryPoint = "nft_ctx_new")]
    public static partial NftContextHandle ContextNew(uint flags);

    /// <summary>Frees the context, its cache, buffers and netlink socket. Only <see cref="NftContextHandle"/> calls it.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_free")]
    public static partial void ContextFree(nint context);

    /// <summary>Collects standard output in a buffer instead of writing to the process's stdout; 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    public static partial int BufferOutput(NftContextHandle context);

    /// <summary>Collects error messages in a buffer instead of writing to the process's stderr; 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    public static partial int BufferError(NftContextHandle context);

    /// <summary>
    /// The output collected since the last call, NUL-terminated and owned by the context (never
    /// freed by the caller, overwritten by the next command): a pointer, copied at once.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    public static partial nint GetOutputBuffer(NftContextHandle context);

    /// <summary>The error text collected since the last call; same ownership as <see cref="GetOutputBuffer"/>.</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    public static partial nint GetErrorBuffer(NftContextHandle context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    public static partial void OutputSetFlags(NftContextHandle context, uint flags);

    /// <summary>
    /// Parses and runs one buffer of nft commands as one transaction; 0 on success, the error
    /// text in the error buffer otherwise. nft 1.0.6 quotes the buffer's first line in its
    /// errors whatever line failed, so only one-line commands go this way.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RunCommandFromBuffer(NftContextHandle context, string buffer);

    /// <summary>
    /// Reads a file of nft commands and runs them as one transaction, exactly as <c>nft -f</c>
    /// does (the binary calls this); errors name the file, line and column.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_filename", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RunCommandFromFilename(NftContextHandle context, string filename);
}
