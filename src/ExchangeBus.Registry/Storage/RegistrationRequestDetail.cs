// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;

namespace ExchangeBus.Registry.Storage;

/// <summary>A registration with the CSRs the node sent (DER; empty once the registry has dropped them), for an officer to look at.</summary>
public sealed record RegistrationRequestDetail(RegistrationInfo Info, byte[] AuthenticationCsr, byte[] SigningCsr);
