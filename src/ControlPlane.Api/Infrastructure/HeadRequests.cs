using Microsoft.AspNetCore.Http.Features;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// HEAD on every route: answered as the GET of the same URI would be (status and headers, RFC
/// 9110 section 9.3.2), with the body discarded before it reaches the server. Minimal-API GET
/// routes do not match HEAD by themselves (it would be a 405), and the envelope written for
/// that 405 (or any status page) went out as DATA frames on HTTP/2, where a HEAD response must
/// have none: curl reported PROTOCOL_ERROR.
/// </summary>
public static class HeadRequests
{
    /// <summary>Put first in the pipeline, so nothing after it can write a HEAD body.</summary>
    public static IApplicationBuilder UseHeadAsBodylessGet(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }

        var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Request.Method = HttpMethods.Get;
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null, body));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(body);
            context.Request.Method = HttpMethods.Head;
        }
    });
}
