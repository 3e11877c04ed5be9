using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Dataplane;

/// <summary>
/// A batch held in an anonymous in-memory file (<c>memfd_create</c>), so that libnftables can
/// read it by name the way <c>nft -f</c> reads its input, and report errors by line. Nothing
/// touches a disk; the file is gone when disposed.
/// </summary>
internal sealed partial class NftBatchFile : IDisposable
{
    private const uint CloseOnExec = 1;

    private readonly SafeFileHandle handle;

    private NftBatchFile(SafeFileHandle handle) => this.handle = handle;

    /// <summary>The name libnftables opens it by: <c>/proc/self/fd/N</c>.</summary>
    public string Path => $"/proc/self/fd/{handle.DangerousGetHandle()}";

    /// <exception cref="IOException">The file could not be made or written.</exception>
    public static NftBatchFile Write(string batch)
    {
        var descriptor = MemfdCreate("nft-batch", CloseOnExec);
        if (descriptor < 0)
        {
            throw new IOException($"memfd_create failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        var file = new NftBatchFile(new SafeFileHandle(descriptor, ownsHandle: true));
        try
        {
            RandomAccess.Write(file.handle, Encoding.UTF8.GetBytes(batch), 0);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => handle.Dispose();

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);
}
