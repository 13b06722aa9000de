// SPDX-License-Identifier: Apache-2.0
using System.Runtime.CompilerServices;

namespace ExchangeBus.Grpc;

/// <summary>Reads the messages of a stream one at a time.</summary>
public interface IAsyncStreamReader<out T>
{
    T Current { get; }

    /// <summary>Advances to the next message; false once the peer has finished the stream.</summary>
    Task<bool> MoveNext(CancellationToken cancellationToken = default);
}

/// <summary>Writes the messages of a stream; one write at a time.</summary>
public interface IAsyncStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}

public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream (half-close).</summary>
    Task CompleteAsync();
}

public static class AsyncStreamReaderExtensions
{
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(
        this IAsyncStreamReader<T> reader,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
