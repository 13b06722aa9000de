// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using Grpc.Core;

namespace ExchangeBus.Node;

/// <summary>
/// Stable error codes, in X-Road's style: <c>Client.*</c> for what the calling system got wrong,
/// <c>Server.ClientProxy.*</c> for failures on the caller's node, <c>Server.ServerProxy.*</c> for
/// the provider's node refusing or failing. Scripts and operators match on these.
/// </summary>
public static class NodeErrors
{
    // The caller's request.
    public const string InvalidIdentifier = "Client.InvalidIdentifier";
    public const string BadRequest = "Client.BadRequest";
    public const string UnregisteredClient = "Client.UnregisteredClient";
    public const string ClientNotAuthenticated = "Client.NotAuthenticated";
    public const string PayloadTooLarge = "Client.PayloadTooLarge";

    // The client node.
    public const string OutdatedGlobalConf = "Server.ClientProxy.OutdatedGlobalConf";
    public const string UnknownClient = "Server.ClientProxy.UnknownClient";
    public const string UnknownProvider = "Server.ClientProxy.UnknownService";
    public const string NoProviderNode = "Server.ClientProxy.NoProviderNode";
    public const string ProviderUnreachable = "Server.ClientProxy.ProviderUnreachable";
    public const string InvalidResponse = "Server.ClientProxy.InvalidResponse";
    public const string ClientProxyTimeout = "Server.ClientProxy.Timeout";
    public const string NotRegistered = "Server.ClientProxy.NodeNotRegistered";
    public const string OwnOcspUnavailable = "Server.ClientProxy.OcspUnavailable";

    /// <summary>The message log has gone without a time-stamped tree head for longer than the configuration allows.</summary>
    public const string TimestampingFailed = "Server.ClientProxy.TimestampingFailed";

    /// <summary>A request the protocol defines but this node does not serve yet (the REST metaservices).</summary>
    public const string NotImplemented = "Server.ClientProxy.NotImplemented";

    // The provider node.
    public const string ProviderOutdatedGlobalConf = "Server.ServerProxy.OutdatedGlobalConf";
    public const string UnregisteredNode = "Server.ServerProxy.UnregisteredNode";

    /// <summary>The client (or file sender) is not in the configuration: never registered, or disabled by the registry.</summary>
    public const string ProviderUnknownClient = "Server.ServerProxy.UnknownClient";
    public const string SenderMismatch = "Server.ServerProxy.SenderMismatch";
    public const string MalformedMessage = "Server.ServerProxy.MalformedMessage";
    public const string InvalidSignature = "Server.ServerProxy.InvalidSignature";
    public const string InvalidSignerCertificate = "Server.ServerProxy.InvalidSignerCertificate";
    public const string SignerNotClient = "Server.ServerProxy.SignerNotClient";
    public const string CertificateRevoked = "Server.ServerProxy.CertificateRevoked";
    public const string InvalidOcsp = "Server.ServerProxy.InvalidOcspResponse";
    public const string StaleOcsp = "Server.ServerProxy.StaleOcspResponse";
    public const string Replay = "Server.ServerProxy.DuplicateMessageId";
    public const string StaleMessage = "Server.ServerProxy.StaleMessage";
    public const string UnknownService = "Server.ServerProxy.UnknownService";
    public const string AccessDenied = "Server.ServerProxy.AccessDenied";

    /// <summary>The service exists and the client may call it, but its provider registered no description of it.</summary>
    public const string NoServiceDescription = "Server.ServerProxy.NoServiceDescription";
    public const string ServiceFailed = "Server.ServerProxy.ServiceFailed";
    public const string ServiceTimeout = "Server.ServerProxy.ServiceTimeout";
    public const string ServiceUnavailable = "Server.ServerProxy.ServiceUnavailable";
    public const string ProviderInternal = "Server.ServerProxy.InternalError";

    /// <summary>A request or response message (one message of a stream) over the service's node.json MaxMessageBytes.</summary>
    public const string MessageTooLarge = "Server.ServerProxy.MessageTooLarge";
    public const string ProviderTimestampingFailed = "Server.ServerProxy.TimestampingFailed";

    // Local configuration.
    public const string SettingsMissing = "Node.SettingsMissing";
    public const string SettingsInvalid = "Node.SettingsInvalid";

    /// <summary>Another edit of node.json (a command or the console) held its lock for too long.</summary>
    public const string SettingsBusy = "Node.SettingsBusy";

    /// <summary>A service's description (node.json <c>Description</c>) is missing, unreadable, or not what its backend needs.</summary>
    public const string DescriptionInvalid = "Node.ServiceDescriptionInvalid";
}

/// <summary>A refusal with its code, the status it maps to, and whether it went to the provider.</summary>
public sealed class NodeException(StatusCode statusCode, string code, string message) : Exception(message)
{
    public StatusCode StatusCode { get; } = statusCode;

    public string Code { get; } = code;

    public RpcException ToRpc(string correlationId) => RichStatus.Error(StatusCode, Code, Message, correlationId);
}

public sealed class NodeConfigurationException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
