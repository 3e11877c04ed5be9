using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Moves one thread into a named network namespace (<c>/run/netns/NAME</c>, as made by
/// <c>ip netns add</c>) and back to the namespace it started in. Made, used and disposed on
/// that one thread.
/// </summary>
/// <remarks>
/// <c>setns(CLONE_NEWNET)</c> moves only the calling thread, but every thread that thread
/// creates is born in its namespace, and the runtime creates threads on whichever thread
/// happens to need one (a thread-pool worker when a task is completed, say). So a thread stays
/// inside only while it calls into the namespace, and leaves before it does anything else.
/// A namespace is identified by the inode of its nsfs file: deleting and re-adding a name gives
/// a new inode, while the old namespace lives on for as long as a thread or socket is in it.
/// </remarks>
internal sealed partial class ThreadNetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxInode = 0x100;
    private const int NoSuchFile = 2;

    private readonly string name;
    private readonly string path;
    private readonly SafeFileHandle home;
    private SafeFileHandle? target;
    private ulong targetIdentity;

    /// <summary>Remembers the calling thread's own namespace, to come back to.</summary>
    /// <param name="name">A name under /run/netns.</param>
    public ThreadNetworkNamespace(string name)
    {
        this.name = name;
        path = $"/run/netns/{name}";
        home = File.OpenHandle("/proc/thread-self/ns/net");
    }

    /// <summary>
    /// Moves the calling thread into the namespace. True when this is another namespace than
    /// the previous <see cref="Enter"/> found (the first one, or the name was deleted and
    /// added again): sockets opened before belong to the old one.
    /// </summary>
    /// <exception cref="DataplaneUnavailableException">The namespace does not exist or cannot be entered.</exception>
    public bool Enter()
    {
        var moved = false;
        if (target is null || IdentityOfPath() != targetIdentity)
        {
            target?.Dispose();
            target = null;
            (target, targetIdentity) = Open();
            moved = true;
        }

        return SetNs(target, CloneNewNet) == 0
            ? moved
            : throw new DataplaneUnavailableException($"cannot enter network namespace '{name}': {LastError()}");
    }

    /// <summary>Moves the calling thread back to the namespace it started in.</summary>
    public void Leave()
    {
        if (SetNs(home, CloneNewNet) != 0)
        {
            // Going on would let this thread start threads inside the data center's namespace,
            // and the agent's own connections with them: stop instead.
            Environment.FailFast($"cannot return from network namespace '{name}' to the agent's own: {LastError()}");
        }
    }

    public void Dispose()
    {
        target?.Dispose();
        home.Dispose();
    }

    private (SafeFileHandle Handle, ulong Identity) Open()
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataplaneUnavailableException($"cannot open network namespace '{name}': {e.Message}");
        }

        if (Statx(handle, "", AtEmptyPath, StatxInode, out var status) != 0)
        {
            var error = LastError();
            handle.Dispose();
            throw new DataplaneUnavailableException($"cannot identify network namespace '{name}': {error}");
        }

        return (handle, status.Inode);
    }

    private ulong IdentityOfPath()
    {
        if (Statx(AtFdCwd, path, 0, StatxInode, out var status) == 0)
        {
            return status.Inode;
        }

        var errno = Marshal.GetLastPInvokeError();
        throw new DataplaneUnavailableException(errno == NoSuchFile
            ? $"network namespace '{name}' does not exist ({path} is missing)"
            : $"cannot identify network namespace '{name}': {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    private static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle namespaceFile, int namespaceType);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(SafeFileHandle directory, string path, int flags, uint mask, out StatxBuffer status);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, out StatxBuffer status);

    /// <summary><c>struct statx</c>: 256 bytes on every architecture, <c>stx_ino</c> at byte 32.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(32)]
        public ulong Inode;
    }
}
