// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Audit;

/// <summary>Reading a node's audit API page by page.</summary>
public static class AuditQueries
{
    /// <summary>Every record matching <paramref name="query"/>, following the page tokens to the end.</summary>
    public static async IAsyncEnumerable<RecordSummary> ReadAllAsync(
        global::Grpc.Net.Client.GrpcChannel channel, QueryRequest query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(query);
        var page = query.Clone();
        page.PageSize = page.PageSize == 0 ? (uint)MessageLogQuery.MaxPageSize : page.PageSize;
        while (true)
        {
            var response = await new AuditService.AuditServiceClient(channel).QueryAsync(page, new global::Grpc.Core.CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            foreach (var record in response.Records)
            {
                yield return record;
            }

            if (response.NextPageToken.Length == 0)
            {
                yield break;
            }

            page.PageToken = response.NextPageToken;
        }
    }
}
