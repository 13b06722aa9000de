// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;

namespace ExchangeBus.Grpc.Internal;

internal interface IClientCallState : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}

/// <summary>
/// One call on the wire, whatever its kind: the request is pushed into the HTTP/2 stream as the
/// caller writes, and the response frames and trailers are read as the caller reads.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientStreamWriter<TRequest>, IAsyncStreamReader<TResponse>, IClientCallState
{
    private static readonly Version Http2 = new(2, 0);
    private static readonly TransferCodingWithQualityHeaderValue Trailers = new("trailers");

    /// <summary>How long a failed write waits for an answer the server may already have sent.</summary>
    private static readonly TimeSpan AnswerGrace = TimeSpan.FromSeconds(2);

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource? _deadlineCts;
    private readonly CancellationTokenSource _callCts;
    private readonly TimeSpan? _timeout;
    private readonly TaskCompletionSource<Stream> _requestStream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _requestComplete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private Task<HttpResponseMessage>? _sendTask;
    private HttpResponseMessage? _response;
    private PipeReader? _responseReader;
    private Status? _status;
    private Metadata _trailers = Metadata.Empty;
    private bool _requestCompleted;
    private bool _disposed;
    private int _writing;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        if (options.Deadline is { } deadline)
        {
            var remaining = deadline - channel.Options.TimeProvider.GetUtcNow();
            _timeout = remaining;
            if (remaining <= TimeSpan.Zero)
            {
                // Already past: fail without sending anything.
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), Metadata.Empty);
            }
            else
            {
                _deadlineCts = new CancellationTokenSource(remaining, channel.Options.TimeProvider);
            }
        }

        _callCts = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, _deadlineCts?.Token ?? CancellationToken.None);
    }

    public TResponse Current { get; private set; } = default!;

    public Task<Metadata> ResponseHeadersAsync => _responseHeaders.Task;

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished.");

    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("The call has not finished.") : _trailers;

    public void StartUnaryRequest(TRequest request)
    {
        if (_status is not null)
        {
            return;
        }

        ReadOnlyMemory<byte> frame;
        try
        {
            frame = Frame(request);
        }
        catch (RpcException ex)
        {
            Finish(ex.Status, Metadata.Empty);
            return;
        }

        Send(new PushContent(stream => stream.WriteAsync(frame, _callCts.Token).AsTask()));
    }

    public void StartStreamingRequest()
    {
        if (_status is not null)
        {
            return;
        }

        Send(new PushContent(async stream =>
        {
            _requestStream.TrySetResult(stream);
            await _requestComplete.Task.ConfigureAwait(false);
        }));
    }

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ThrowIfEnded();
        if (_requestCompleted)
        {
            throw new InvalidOperationException("The request stream has already been completed.");
        }

        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("Only one write can be pending at a time.");
        }

        byte[]? pooled = null;
        try
        {
            var frame = PooledFrame(message, out pooled);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_callCts.Token, cancellationToken);
            var stream = await _requestStream.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            await stream.WriteAsync(frame, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (RpcException ex) when (_status is null)
        {
            Fail(ex.Status);
            throw;
        }
        catch (Exception ex) when (ex is not RpcException && !cancellationToken.IsCancellationRequested)
        {
            if (await AnsweredStatusAsync().ConfigureAwait(false) is { } answered)
            {
                Finish(answered.Status, answered.Trailers);
                throw new RpcException(_status!.Value, _trailers);
            }

            throw Fail(MapException(ex, beforeResponse: false));
        }
        finally
        {
            if (pooled is not null)
            {
                // The HTTP/2 request stream has copied the frame into its own buffers once the
                // write completes; a write that failed or was cancelled has ended the call.
                ArrayPool<byte>.Shared.Return(pooled);
            }

            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>
    /// A server may answer before it has read the whole request stream (a refusal after the first
    /// message); HTTP/2 then stops the request body and the caller's write fails. The server's
    /// answer, sent trailers-only, is the call's real outcome, not "cancelled".
    /// </summary>
    private async Task<(Status Status, Metadata Trailers)?> AnsweredStatusAsync()
    {
        if (_sendTask is not { } send || _callCts.IsCancellationRequested)
        {
            return null;
        }

        try
        {
            // The response headers arrive just before the request body is stopped, if at all.
            var response = await send.WaitAsync(AnswerGrace, _channel.Options.TimeProvider).ConfigureAwait(false);
            return ReadStatus(response.Headers) is { } status ? (status, ReadMetadata(response.Headers)) : null;
        }
        catch (Exception ex) when (ex is TimeoutException or HttpRequestException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    public Task CompleteAsync()
    {
        _requestCompleted = true;
        _requestComplete.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (_status is { } ended)
        {
            return ended.Code == StatusCode.OK ? false : throw new RpcException(ended, _trailers);
        }

        if (!await EnsureResponseAsync().ConfigureAwait(false))
        {
            return false;
        }

        (bool HasMessage, TResponse Message) next;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_callCts.Token, cancellationToken);
            next = await MessageReader.ReadAsync(_responseReader!, _method.ResponseMarshaller, _channel.Options.MaxReceiveMessageSize, linked.Token)
                .ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Fail(ex.Status);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested || _callCts.IsCancellationRequested)
        {
            throw Fail(MapException(ex, beforeResponse: false));
        }

        if (next.HasMessage)
        {
            Current = next.Message;
            return true;
        }

        var trailers = _response!.TrailingHeaders;
        var status = ReadStatus(trailers)
            ?? new Status(StatusCode.Internal, "The response ended without a grpc-status.");
        Finish(status, ReadMetadata(trailers));
        return status.Code == StatusCode.OK ? false : throw new RpcException(status, _trailers);
    }

    public async Task<TResponse> ReadSingleResponseAsync()
    {
        try
        {
            if (!await MoveNext().ConfigureAwait(false))
            {
                throw Fail(new Status(StatusCode.Internal, "The server answered OK without a response message."));
            }

            var response = Current;
            if (await MoveNext().ConfigureAwait(false))
            {
                throw Fail(new Status(StatusCode.Internal, "The server sent more than one response message."));
            }

            return response;
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        if (_status is null)
        {
            Finish(new Status(StatusCode.Cancelled, "The call was disposed."), Metadata.Empty);
        }

        // Cancelling a finished HTTP/2 stream is a no-op; an unfinished one is reset (RST_STREAM).
        _callCts.Cancel();
        _responseReader?.Complete();
        _response?.Dispose();
        _callCts.Dispose();
        _deadlineCts?.Dispose();
    }

    private void Send(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = Http2,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = request.Headers;
        headers.TE.Add(Trailers);
        headers.TryAddWithoutValidation("user-agent", _channel.Options.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        if (_timeout is { } timeout)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.FormatTimeout(timeout));
        }

        if (_options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? GrpcProtocol.EncodeBinaryHeader(entry.ValueBytes) : entry.Value);
            }
        }

        _sendTask = _channel.Invoker.SendAsync(request, _callCts.Token);
    }

    /// <summary>Waits for the response headers; false if the call ended OK with no body (trailers-only).</summary>
    private async Task<bool> EnsureResponseAsync()
    {
        if (_responseReader is not null)
        {
            return true;
        }

        HttpResponseMessage response;
        try
        {
            response = await _sendTask!.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Fail(MapException(ex, beforeResponse: true));
        }

        _response = response;
        _responseHeaders.TrySetResult(ReadMetadata(response.Headers));
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var code = (int)response.StatusCode;
            throw Fail(new Status(GrpcProtocol.FromHttpStatus(code), string.Create(CultureInfo.InvariantCulture, $"Bad gRPC response: HTTP status {code}.")));
        }

        if (!GrpcProtocol.IsGrpcContentType(response.Content.Headers.ContentType?.ToString()))
        {
            throw Fail(new Status(StatusCode.Unknown, "Bad gRPC response: the content type is not application/grpc."));
        }

        if (ReadStatus(response.Headers) is { } trailersOnly)
        {
            Finish(trailersOnly, ReadMetadata(response.Headers));
            return trailersOnly.Code == StatusCode.OK ? false : throw new RpcException(trailersOnly, _trailers);
        }

        try
        {
            var stream = await response.Content.ReadAsStreamAsync(_callCts.Token).ConfigureAwait(false);
            _responseReader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        }
        catch (Exception ex)
        {
            throw Fail(MapException(ex, beforeResponse: false));
        }

        return true;
    }

    private ReadOnlyMemory<byte> Frame(TRequest message)
    {
        // Sized once: a growing writer doubled its way up to twice a large message and then
        // copied it out, some five times the message in large-object garbage (a file's 1 MiB
        // chunks made that 5 MiB per MiB sent).
        // A message over the limit is refused by Write, before anything of its size is allocated.
        var size = _method.RequestMarshaller.CalculateSize(message);
        var buffer = new ArrayBufferWriter<byte>(size is < 0 || size > _channel.Options.MaxSendMessageSize ? 1 : GrpcProtocol.HeaderSize + size);
        MessageReader.Write(buffer, _method.RequestMarshaller, message, _channel.Options.MaxSendMessageSize);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// A streamed message, framed in a pooled buffer the caller returns once it is written. A
    /// file's push is a stream of 1 MiB chunks: a fresh buffer per message was a large-object
    /// allocation per MiB sent, each zeroed, and together they brought on background collections
    /// of the large-object heap (perf showed those on every node moving a large file).
    /// </summary>
    private ReadOnlyMemory<byte> PooledFrame(TRequest message, out byte[]? pooled)
    {
        pooled = null;
        var size = _method.RequestMarshaller.CalculateSize(message);
        if (size is < 0 || size > _channel.Options.MaxSendMessageSize)
        {
            // Refused by Write, before anything of its size is allocated.
            return Frame(message);
        }

        pooled = ArrayPool<byte>.Shared.Rent(GrpcProtocol.HeaderSize + size);
        var writer = new FixedBufferWriter(pooled);
        MessageReader.Write(writer, _method.RequestMarshaller, message, _channel.Options.MaxSendMessageSize);
        return pooled.AsMemory(0, writer.Written);
    }

    private void ThrowIfEnded()
    {
        if (_status is { } status)
        {
            throw status.Code == StatusCode.OK
                ? new InvalidOperationException("The call has already finished.")
                : new RpcException(status, _trailers);
        }
    }

    private RpcException Fail(Status status)
    {
        if (_status is null)
        {
            Finish(status, Metadata.Empty);

            // Reset the stream so the server stops work nobody will read.
            try
            {
                _callCts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        return new RpcException(_status!.Value, _trailers);
    }

    private void Finish(Status status, Metadata trailers)
    {
        lock (_gate)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            _trailers = trailers;
        }

        _requestComplete.TrySetResult();
        _requestStream.TrySetCanceled();
        if (status.Code != StatusCode.OK)
        {
            _responseHeaders.TrySetException(new RpcException(status, trailers));
        }
        else
        {
            _responseHeaders.TrySetResult(Metadata.Empty);
        }
    }

    private Status MapException(Exception ex, bool beforeResponse)
    {
        if (_deadlineCts?.IsCancellationRequested == true)
        {
            return new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }

        if (_options.CancellationToken.IsCancellationRequested || _disposed)
        {
            return new Status(StatusCode.Cancelled, "The call was cancelled by the client.");
        }

        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException auth)
            {
                return new Status(StatusCode.Unavailable, "TLS handshake with the server failed: " + auth.Message);
            }

            if (inner is HttpProtocolException protocol)
            {
                return FromResetCode(protocol.ErrorCode);
            }

            if (inner is TimeoutException)
            {
                // The channel's ConnectTimeout passed (SocketsHttpHandler reports it as a cancellation
                // around a TimeoutException): the server was never reached, which is Unavailable.
                // As Cancelled it looked like a call abandoned mid-way, and callers that move on to
                // another server when one is unreachable gave up instead.
                return new Status(StatusCode.Unavailable, "No connection to the server within the connect timeout.");
            }
        }

        if (ex is HttpRequestException request)
        {
            // With TLS 1.3 the server checks our certificate after the client has finished the
            // handshake, so a refusal shows up as a connection closed before HTTP/2 started.
            var hint = beforeResponse && _channel.Options.ClientCertificate is not null && _channel.Address.Scheme == "https"
                ? " The server may have refused this client's certificate."
                : string.Empty;
            return new Status(StatusCode.Unavailable, $"Error connecting to the server ({request.HttpRequestError}).{hint}");
        }

        if (ex is IOException)
        {
            return new Status(StatusCode.Unavailable, "The connection to the server was lost.");
        }

        if (ex is OperationCanceledException)
        {
            return new Status(StatusCode.Cancelled, "The call was cancelled.");
        }

        return new Status(StatusCode.Internal, "Unexpected transport failure: " + ex.GetType().Name);
    }

    /// <summary>The spec's mapping of an HTTP/2 RST_STREAM error code to a status.</summary>
    private static Status FromResetCode(long code) => code switch
    {
        0x7 => new Status(StatusCode.Unavailable, "The server refused the stream."),
        0x8 => new Status(StatusCode.Cancelled, "The server cancelled the stream."),
        0xB => new Status(StatusCode.ResourceExhausted, "The server asked to slow down (ENHANCE_YOUR_CALM)."),
        0xC => new Status(StatusCode.PermissionDenied, "The server found the transport security inadequate."),
        _ => new Status(StatusCode.Internal, string.Create(CultureInfo.InvariantCulture, $"HTTP/2 stream error {code}.")),
    };

    private static Status? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues(GrpcProtocol.StatusHeader, out var values))
        {
            return null;
        }

        var raw = values.FirstOrDefault();
        var code = int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? (StatusCode)parsed : StatusCode.Unknown;
        var message = headers.TryGetValues(GrpcProtocol.MessageHeader, out var m) ? GrpcProtocol.DecodeMessage(m.FirstOrDefault()) : string.Empty;
        Google.Rpc.Status? details = null;
        if (headers.TryGetValues(GrpcProtocol.StatusDetailsHeader, out var d)
            && GrpcProtocol.TryDecodeBinaryHeader(d.First(), out var bytes))
        {
            try
            {
                details = Google.Rpc.Status.Parser.ParseFrom(bytes);
            }
            catch (Google.Protobuf.InvalidProtocolBufferException)
            {
                // Details are an aid, not the status: a peer that garbles them still has a code.
            }
        }

        return new Status(code, message, details);
    }

    private static Metadata ReadMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            var key = name.ToLowerInvariant();
            if (Metadata.IsReserved(key) || !Metadata.IsValidKey(key) || key is "date" or "server")
            {
                continue;
            }

            foreach (var value in values)
            {
                if (key.EndsWith(Metadata.BinarySuffix, StringComparison.Ordinal))
                {
                    if (GrpcProtocol.TryDecodeBinaryHeader(value, out var bytes))
                    {
                        metadata.AddEntry(Metadata.Entry.Binary(key, bytes));
                    }
                }
                else if (Metadata.IsValidAsciiValue(value))
                {
                    metadata.AddEntry(Metadata.Entry.Ascii(key, value));
                }
            }
        }

        return metadata;
    }
}
