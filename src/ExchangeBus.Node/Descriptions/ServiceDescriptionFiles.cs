// SPDX-License-Identifier: Apache-2.0
using System.Text;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Configuration;
using Google.Protobuf;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ExchangeBus.Node.Descriptions;

/// <summary>
/// Reads and checks the API descriptions node.json names (<see cref="ServiceSettings.Description"/>),
/// once per version of node.json: a node does not start, and a reload is refused, with a
/// description that is missing or does not parse, so what the node serves later is what was
/// checked. gRPC backends: a FileDescriptorSet that builds and holds the backend's gRPC service.
/// Other backends: an OpenAPI 3 document (JSON or YAML), read by Microsoft.OpenApi.
/// </summary>
public static class ServiceDescriptionFiles
{
    /// <summary>A description travels as one payload, with room for the message around it.</summary>
    public const int MaxBytes = NodeLimits.MaxPayloadBytes - (64 * 1024);

    public const string ProtobufMediaType = "application/x-protobuf";
    public const string JsonMediaType = "application/json";
    public const string YamlMediaType = "application/yaml";

    /// <summary>
    /// The descriptions of <paramref name="services"/>, by service id; relative paths are relative
    /// to <paramref name="baseDirectory"/> (node.json's folder). Every problem goes to <paramref name="problems"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, ServiceDescription> Load(IEnumerable<ServiceSettings> services, string baseDirectory, ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(problems);
        var loaded = new Dictionary<string, ServiceDescription>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (service.Description is not { } file)
            {
                continue;
            }

            try
            {
                var content = AtomicFile.ReadBounded(Path.GetFullPath(file, baseDirectory), MaxBytes);
                loaded[service.Service] = service.Backend.Kind == BackendKind.Grpc
                    ? DescriptorSet(service, content)
                    : OpenApi(service, content);
            }
            catch (PkiException ex)
            {
                problems.Add($"service '{service.Service}': description {ex.Message}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"service '{service.Service}': description '{file}' cannot be read ({ex.GetType().Name})");
            }
            catch (FormatException ex)
            {
                problems.Add($"service '{service.Service}': description '{file}' is {ex.Message}");
            }
        }

        return loaded;
    }

    /// <summary>The gRPC service a gRPC backend carries: its GrpcService, else the service of its method path.</summary>
    public static string? GrpcServiceOf(BackendSettings backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend.GrpcService ?? backend.Method?.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }

    private static ServiceDescription DescriptorSet(ServiceSettings service, byte[] content)
    {
        var bytes = ByteString.CopyFrom(content);
        var grpcService = GrpcServiceOf(service.Backend) ?? string.Empty;
        if (!DescriptorSets.Build(bytes).SelectMany(f => f.Services).Any(s => string.Equals(s.FullName, grpcService, StringComparison.Ordinal)))
        {
            throw new FormatException($"a FileDescriptorSet without the gRPC service {grpcService}");
        }

        return new ServiceDescription
        {
            Service = service.Service,
            Kind = ServiceDescriptionKind.ProtobufDescriptorSet,
            Content = bytes,
            MediaType = ProtobufMediaType,
            GrpcService = grpcService,
        };
    }

    private static ServiceDescription OpenApi(ServiceSettings service, byte[] content)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException ex)
        {
            throw new FormatException("not UTF-8 text (an OpenAPI 3 document in JSON or YAML)", ex);
        }

        // JSON is YAML, but the JSON reader reports JSON's errors better.
        var json = text.TrimStart().StartsWith('{');
        var settings = new OpenApiReaderSettings();
        settings.AddYamlReader();
        ReadResult result;
        try
        {
            result = OpenApiDocument.Parse(text, json ? OpenApiConstants.Json : OpenApiConstants.Yaml, settings);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The readers throw their own (and the YAML parser's) exception types on malformed text.
            throw new FormatException("not an OpenAPI 3 document (it does not parse as JSON or YAML)", ex);
        }

        if (result.Document is null || result.Diagnostic is null)
        {
            throw new FormatException("not an OpenAPI 3 document");
        }

        if (result.Diagnostic.SpecificationVersion is not (OpenApiSpecVersion.OpenApi3_0 or OpenApiSpecVersion.OpenApi3_1))
        {
            throw new FormatException($"not an OpenAPI 3 document (its version is {result.Diagnostic.SpecificationVersion})");
        }

        if (result.Diagnostic.Errors.Count > 0)
        {
            throw new FormatException($"not a valid OpenAPI 3 document: {result.Diagnostic.Errors[0]}");
        }

        return new ServiceDescription
        {
            Service = service.Service,
            Kind = ServiceDescriptionKind.Openapi,
            Content = ByteString.CopyFrom(content),
            MediaType = json ? JsonMediaType : YamlMediaType,
        };
    }
}
