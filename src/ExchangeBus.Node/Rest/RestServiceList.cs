// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// The body of the r1 metaservices <c>listMethods</c> and <c>allowedMethods</c> in X-Road's shape
/// (PR-MREST 4, annex B.1): <c>{"service": [{"member_class", "member_code", "object_type": "SERVICE",
/// "service_code", "service_version"?, "subsystem_code", "xroad_instance"}]}</c>. Our list carries
/// service identifiers only, so no <c>service_type</c> and no <c>endpoint_list</c>: getOpenAPI
/// gives a REST service's endpoints.
/// </summary>
public static class RestServiceList
{
    public static byte[] Body(IEnumerable<string> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("service");
            foreach (var text in services)
            {
                // The provider's node sends only ids it parsed from its own node.json; one that does not parse is skipped rather than guessed at.
                if (!ServiceId.TryParse(text, out var service, out _))
                {
                    continue;
                }

                var member = service!.Subsystem.Member;
                json.WriteStartObject();
                json.WriteString("member_class", member.MemberClass);
                json.WriteString("member_code", member.MemberCode);
                json.WriteString("object_type", "SERVICE");
                json.WriteString("service_code", service.ServiceCode);
                if (service.Version is not null)
                {
                    json.WriteString("service_version", service.Version);
                }

                json.WriteString("subsystem_code", service.Subsystem.SubsystemCode);
                json.WriteString("xroad_instance", member.Instance);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
