// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

public sealed partial class EvidenceBundleVerifier
{
    /// <summary>
    /// The chains of a streamed exchange (<see cref="StreamChains"/>): a bundle with a link
    /// removed, two in another order, one from another stream, or the end cut off fails with the
    /// log verifier's codes (StreamGap, StreamOutOfOrder, StreamBroken), naming the link's header.bin.
    /// </summary>
    private sealed partial class Run
    {
        private readonly List<StreamRecord<string>> links = [];

        /// <summary>A record whose fields were read (<paramref name="folder"/> records/SEQ/), for the chain check.</summary>
        private void AddLink(string folder, MessageLogRecord record)
        {
            if (StreamChains.Read(folder, record.Direction, record.Header, record.BodySha256, record.Status) is { } link)
            {
                links.Add(link);
            }
        }

        public void CheckStreams()
        {
            foreach (var problem in StreamChains.Check(links))
            {
                Problem(problem.Code, problem.At + EvidenceBundle.HeaderFile, problem.Message);
            }
        }
    }
}
