// SPDX-License-Identifier: Apache-2.0
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// A refusal in X-Road's REST form (PR-REST 4.6): status 400 for what the calling system got
/// wrong (<c>Client.*</c>), 500 for everything that failed on a node or behind it; the
/// <c>X-Road-Error</c> header with the type, so a caller tells a node's refusal from its
/// provider's own 500; and the body <c>{"type", "message", "detail"}</c>, the detail being the
/// correlation id the node's operational log carries.
/// </summary>
public static class RestErrorWriter
{
    /// <summary>4.3: what a node sends must say its media type and character encoding.</summary>
    public const string ContentType = "application/json;charset=utf-8";

    // The body is served as JSON, never embedded in HTML, so quotes and apostrophes in our
    // messages may stay readable rather than \u0027.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>X-Road's error categories 3 (the client's request) and 2 and 4 (a server's failure).</summary>
    public static int StatusFor(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.StartsWith("Client.", StringComparison.Ordinal) ? StatusCodes.Status400BadRequest : StatusCodes.Status500InternalServerError;
    }

    public static byte[] Body(string type, string message, string detail)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("message", message);
            json.WriteString("detail", detail);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static Task WriteAsync(HttpResponse response, RestRefusal refusal, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return WriteAsync(response, refusal.Type, refusal.Message, correlationId, cancellationToken);
    }

    public static Task WriteAsync(HttpResponse response, NodeException refusal, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return WriteAsync(response, refusal.Code, refusal.Message, correlationId, cancellationToken);
    }

    public static Task WriteAsync(HttpResponse response, string type, string message, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = Body(type, message, correlationId);
        response.StatusCode = StatusFor(type);
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        response.Headers[RestHeaders.Error] = type;
        return response.Body.WriteAsync(body, cancellationToken).AsTask();
    }
}
