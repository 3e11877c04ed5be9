using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace EdgeAgent.Dataplane;

/// <summary>
/// One libnftables context and the one dedicated thread allowed to use it. Queued commands run
/// one at a time, each with the thread inside the configured network namespace (a netlink
/// socket belongs to the namespace of the thread that opens it); callers on any thread get a
/// task. The context and its netlink socket live as long as this object.
/// </summary>
/// <remarks>
/// The thread enters the namespace for each command and leaves it before completing the
/// caller's task, so that no thread the runtime starts meanwhile is born inside the data
/// center's namespace (see <see cref="ThreadNetworkNamespace"/>). The context is made on the
/// first command, and again whenever the namespace's name has come to mean another namespace
/// (deleted and re-added); a deleted namespace is reported as unavailable instead of being
/// programmed unseen. A command cancelled while queued never runs; once running, a native call
/// cannot be interrupted, so it completes and reports what really happened.
/// </remarks>
internal sealed partial class NftContextThread : IDisposable
{
    // The nft binary parses and evaluates on a main thread with the usual 8 MiB stack;
    // converging 100k zones is one large batch, so give this thread as much.
    private const int StackSize = 8 * 1024 * 1024;

    private readonly string? networkNamespace;
    private readonly BlockingCollection<Request> queue = [];
    private readonly Thread thread;
    private int disposed;
    private int osThreadId;

    // Touched only by the dedicated thread.
    private NftContextHandle? context;

    /// <param name="networkNamespace">A name under /run/netns; null or empty stays in the agent's own namespace.</param>
    public NftContextThread(string? networkNamespace)
    {
        this.networkNamespace = string.IsNullOrEmpty(networkNamespace) ? null : networkNamespace;
        thread = new Thread(Run, StackSize)
        {
            IsBackground = true,
            Name = "libnftables " + (this.networkNamespace ?? "(own namespace)"),
        };
        thread.Start();
    }

    /// <summary>
    /// Runs one command line (<c>list …</c>), with JSON output when <paramref name="json"/>
    /// (<c>nft -j</c>). A refusal is a result with a non-zero code and nft's error text, not an
    /// exception.
    /// </summary>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded, or the namespace cannot be entered.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the command started.</exception>
    /// <exception cref="ObjectDisposedException">This context was disposed.</exception>
    public Task<NftResult> RunCommandAsync(string command, bool json, CancellationToken cancellationToken) =>
        EnqueueAsync(new Request(command, json, AsFile: false), cancellationToken);

    /// <summary>
    /// Runs a batch of any number of lines as one transaction, read as <c>nft -f</c> reads its
    /// input, so errors name the failing line. A refusal is a result, as above.
    /// </summary>
    /// <exception cref="DataplaneUnavailableException">libnftables cannot be loaded, or the namespace cannot be entered.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the batch started.</exception>
    /// <exception cref="ObjectDisposedException">This context was disposed.</exception>
    public Task<NftResult> RunBatchAsync(string batch, CancellationToken cancellationToken) =>
        EnqueueAsync(new Request(batch, Json: false, AsFile: true), cancellationToken);

    private Task<NftResult> EnqueueAsync(Request request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        request.Registration = cancellationToken.Register(static (state, token) => ((Request)state!).Cancel(token), request);
        try
        {
            queue.Add(request, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            request.Registration.Dispose();
            throw new ObjectDisposedException(nameof(NftContextThread));
        }

        return request.Completion.Task;
    }

    /// <summary>Lets the queued commands finish, stops the thread and frees the context.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        queue.CompleteAdding();
        thread.Join();
        queue.Dispose();
    }

    /// <summary>
    /// The kernel's id of the dedicated thread (its <c>gettid</c>), once it runs; 0 before. The kernel
    /// names this thread, not the agent's process id, as the writer of the generations it commits.
    /// </summary>
    public int OsThreadId => Volatile.Read(ref osThreadId);

    private void Run()
    {
        Volatile.Write(ref osThreadId, GetThreadId());
        ThreadNetworkNamespace? place = null;
        DataplaneUnavailableException? homeless = null;
        try
        {
            place = networkNamespace is null ? null : new ThreadNetworkNamespace(networkNamespace);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            homeless = new DataplaneUnavailableException($"cannot open this thread's own network namespace to come back to: {e.Message}");
        }

        try
        {
            foreach (var request in queue.GetConsumingEnumerable())
            {
                if (!request.TryStart())
                {
                    continue;
                }

                NftResult? result = null;
                Exception? failure = homeless;
                if (failure is null)
                {
                    try
                    {
                        result = Execute(request, place);
                    }
                    catch (Exception e)
                    {
                        // Every failure belongs to the caller; none may end the one thread.
                        failure = e;
                    }
                }

                // Only here, back in the agent's own namespace: completing a task may make the
                // runtime start a thread-pool thread on this one (see ThreadNetworkNamespace).
                if (failure is null)
                {
                    request.Completion.SetResult(result!);
                }
                else
                {
                    request.Completion.SetException(failure);
                }

                request.Registration.Dispose();
            }
        }
        finally
        {
            context?.Dispose();
            place?.Dispose();
        }
    }

    private NftResult Execute(Request request, ThreadNetworkNamespace? place)
    {
        if (place is null)
        {
            return Execute(request, context ??= NewContext());
        }

        try
        {
            if (place.Enter())
            {
                // First command, or the name now means a new namespace: the old context's
                // socket would keep programming the old one, which nobody sees any more.
                context?.Dispose();
                context = null;
            }

            // Made inside, so its netlink socket belongs to the namespace.
            return Execute(request, context ??= NewContext());
        }
        finally
        {
            place.Leave();
        }
    }

    private static NftResult Execute(Request request, NftContextHandle nft)
    {
        LibNftables.OutputSetFlags(nft, request.Json ? LibNftables.OutputJson : 0);
        int code;
        if (request.AsFile)
        {
            using var file = NftBatchFile.Write(request.Text);
            code = LibNftables.RunCommandFromFilename(nft, file.Path);
        }
        else
        {
            code = LibNftables.RunCommandFromBuffer(nft, request.Text);
        }

        // Both buffers are read after every command: reading rewinds them, so nothing of this
        // command's text can leak into the next one's.
        var output = Marshal.PtrToStringUTF8(LibNftables.GetOutputBuffer(nft)) ?? "";
        var error = Marshal.PtrToStringUTF8(LibNftables.GetErrorBuffer(nft)) ?? "";
        return new NftResult(code, output, error.Trim());
    }

    private static NftContextHandle NewContext()
    {
        NftContextHandle created;
        try
        {
            created = LibNftables.ContextNew(LibNftables.ContextDefault);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new DataplaneUnavailableException($"{LibNftables.Library} cannot be loaded ({e.Message}); install the libnftables1 package");
        }

        if (created.IsInvalid)
        {
            created.Dispose();
            throw new DataplaneUnavailableException("nft_ctx_new failed: libnftables could not make a context");
        }

        if (LibNftables.BufferOutput(created) != 0 || LibNftables.BufferError(created) != 0)
        {
            created.Dispose();
            throw new DataplaneUnavailableException("libnftables could not buffer its output");
        }

        return created;
    }

    /// <param name="Text">One command line, or a whole batch when <paramref name="AsFile"/>.</param>
    /// <param name="Json">JSON output (<c>nft -j</c>).</param>
    /// <param name="AsFile">Read as a file, as <c>nft -f</c> does, rather than as one buffer.</param>
    private sealed record Request(string Text, bool Json, bool AsFile)
    {
        private const int Queued = 0;
        private const int Running = 1;
        private const int Cancelled = 2;
        private int state;

        // Continuations must never run on the dedicated thread: it would then be busy with
        // the caller's work, in the wrong namespace for anything else.
        public TaskCompletionSource<NftResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public bool TryStart() => Interlocked.CompareExchange(ref state, Running, Queued) == Queued;

        public void Cancel(CancellationToken token)
        {
            if (Interlocked.CompareExchange(ref state, Cancelled, Queued) == Queued)
            {
                Completion.TrySetCanceled(token);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
