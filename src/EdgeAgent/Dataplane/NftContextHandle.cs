using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Dataplane;

/// <summary>An nftables context (<c>struct nft_ctx *</c>), freed with <c>nft_ctx_free</c> exactly once.</summary>
internal sealed class NftContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Called by the interop marshaller with the pointer <c>nft_ctx_new</c> returned (null on failure).</summary>
    public NftContextHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibNftables.ContextFree(handle);
        return true;
    }
}
