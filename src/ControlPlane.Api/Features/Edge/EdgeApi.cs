using System.Data;
using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Contracts;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Api.Features.Edge;

/// <summary>
/// The agents' API. <c>GET /edge/v1/snapshot</c> returns one consistent revision and the
/// edge state of every live zone, as newline-delimited JSON: the first line is
/// <c>{"revision":R}</c>, then one zone per line. It is read from one REPEATABLE READ
/// transaction and streamed row by row, so neither side holds the whole list as text.
/// </summary>
public static class EdgeApi
{
    public const string ContentType = "application/x-ndjson";

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    public sealed record SnapshotHeader(long Revision);

    public static RouteGroupBuilder MapEdgeApi(this RouteGroupBuilder edge)
    {
        edge.MapGet("/snapshot", Snapshot).WithTags("Edge").WithName("EdgeSnapshot").Produces(StatusCodes.Status200OK, contentType: ContentType);
        return edge;
    }

    public static async Task Snapshot(HttpContext context, ControlPlaneDbContext db, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        // The first read fixes the transaction's snapshot: the revision and the zones agree.
        var revision = (await db.RevisionSequencer.AsNoTracking().SingleAsync(cancellationToken)).LastRevision;
        context.Response.ContentType = ContentType;
        var output = context.Response.Body;
        await JsonSerializer.SerializeAsync(output, new SnapshotHeader(revision), WireJson.Options, cancellationToken);
        await output.WriteAsync(NewLine, cancellationToken);

        var written = 0;
        await foreach (var zone in db.Zones.AsNoTracking().Include(z => z.Addresses).OrderBy(z => z.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            await JsonSerializer.SerializeAsync(output, ChangeLog.EdgeState(zone), WireJson.Options, cancellationToken);
            await output.WriteAsync(NewLine, cancellationToken);
            if (++written % 1000 == 0)
            {
                await output.FlushAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
