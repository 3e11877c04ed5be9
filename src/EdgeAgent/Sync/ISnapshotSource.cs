namespace EdgeAgent.Sync;

/// <summary>
/// Where the sync loop gets the whole desired state from: at start-up, after a failed apply and
/// when a missing revision outlives the gap timeout. <see cref="EdgeApiClient"/> in the agent;
/// a fake in unit tests of <see cref="EdgeSync"/>.
/// </summary>
public interface ISnapshotSource
{
    /// <summary>Fetches the state of every zone as of one revision.</summary>
    /// <returns>A snapshot: its revision, and every zone's state consistent with that revision.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>
    /// Any other exception means there is no snapshot yet, and the caller tries again later. From
    /// <see cref="EdgeApiClient"/>: <see cref="HttpRequestException"/> when the control plane is
    /// unreachable, refuses the credential or sends an empty body; a
    /// <see cref="System.Text.Json.JsonException"/> (or another parse error) when the body is malformed.
    /// </remarks>
    Task<Snapshot> GetSnapshotAsync(CancellationToken cancellationToken);
}
