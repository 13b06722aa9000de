// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Samples.Citizen.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// The citizen registry's own gRPC server, as its ministry would run it: the service generated
/// from proto/samples/citizen_registry.proto, knowing nothing of the bus. Methods the .proto gains
/// later answer UNIMPLEMENTED from the generated base class until they are written here.
/// The people are made up: the numbers have the shape of a citizen identity number (a province
/// code, then nine digits) and belong to no one.
/// </summary>
internal sealed class SampleCitizenRegistry : CitizenRegistry.CitizenRegistryBase
{
    /// <summary>The gRPC service name a provider's node.json gives as <c>Backend.GrpcService</c>.</summary>
    public static string ServiceName => CitizenRegistry.Descriptor.FullName;

    /// <summary><c>ErrorInfo.reason</c> of the registry's own NOT_FOUND.</summary>
    public const string NotFoundReason = "CITIZEN_NOT_FOUND";

    public const string ErrorDomain = "citizen-registry.example";

    /// <summary>Response header of ListDocuments: how many documents follow, sent before the first.</summary>
    public const string DocumentCountHeader = "x-document-count";

    private static readonly Dictionary<string, (Citizen Citizen, Document[] Documents)> People = new[]
    {
        Person("079201000123", "Nguyễn Thị Lan", "1990-05-17", "Thành phố Hồ Chí Minh",
            ("Căn cước công dân (citizen identity card)", "2021-04-02"), ("Giấy phép lái xe (driving licence) B2", "2015-09-14")),
        Person("079201000456", "Trần Văn Minh", "1988-11-02", "Thành phố Hồ Chí Minh",
            ("Căn cước công dân (citizen identity card)", "2021-06-20")),
        Person("001199004321", "Lê Thị Hoa", "1999-03-08", "Hà Nội",
            ("Căn cước công dân (citizen identity card)", "2022-01-11"), ("Hộ chiếu (passport)", "2023-07-30"), ("Giấy khai sinh (birth certificate)", "1999-03-20")),
        Person("048085001234", "Phạm Quốc Bảo", "1985-12-24", "Đà Nẵng",
            ("Căn cước công dân (citizen identity card)", "2021-03-15")),
    }.ToDictionary(p => p.Citizen.CitizenId, StringComparer.Ordinal);

    public override Task<Citizen> GetCitizen(GetCitizenRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(Find(request.CitizenId).Citizen);
    }

    public override async Task ListDocuments(ListDocumentsRequest request, IServerStreamWriter<Document> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var documents = Find(request.CitizenId).Documents;
        await context.WriteResponseHeadersAsync(new Metadata { { DocumentCountHeader, documents.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) } }).ConfigureAwait(false);
        foreach (var document in documents)
        {
            await responseStream.WriteAsync(document, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Documents handed in: each one counted, its id kept in order, one receipt at the end.</summary>
    public override async Task<UploadReceipt> UploadDocuments(IAsyncStreamReader<Document> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        var receipt = new UploadReceipt();
        await foreach (var document in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            receipt.Count++;
            receipt.DocumentIds.Add(document.DocumentId);
        }

        return receipt;
    }

    /// <summary>Each question answered as it arrives, from the registry's record of the citizen it names.</summary>
    public override async Task Converse(IAsyncStreamReader<Question> requestStream, IServerStreamWriter<Answer> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await foreach (var question in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(new Answer { Text = AnswerTo(question) }, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The registry's answer to one question: a known field of the citizen, or the question repeated back.</summary>
    public static string AnswerTo(Question question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var citizen = Find(question.CitizenId).Citizen;
        return question.Text switch
        {
            "name?" => citizen.FullName,
            "born?" => citizen.DateOfBirth,
            "province?" => citizen.Province,
            _ => $"{citizen.FullName}: no answer to '{question.Text}'",
        };
    }

    /// <summary>An unknown number is the registry's own NOT_FOUND, with a reason in the status details as a careful service gives.</summary>
    private static (Citizen Citizen, Document[] Documents) Find(string citizenId) =>
        People.TryGetValue(citizenId, out var person)
            ? person
            : throw new Google.Rpc.Status
            {
                Code = (int)Code.NotFound,
                Message = "No citizen with that number.",
                Details = { Any.Pack(new ErrorInfo { Reason = NotFoundReason, Domain = ErrorDomain }) },
            }.ToRpcException();

    private static (Citizen Citizen, Document[] Documents) Person(string id, string name, string born, string province, params (string Kind, string IssuedOn)[] documents) =>
        (new Citizen { CitizenId = id, FullName = name, DateOfBirth = born, Province = province },
         documents.Select((d, i) => new Document { DocumentId = $"{id}-{i + 1}", Kind = d.Kind, IssuedOn = d.IssuedOn }).ToArray());
}
