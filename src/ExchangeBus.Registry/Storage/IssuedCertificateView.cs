// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;

namespace ExchangeBus.Registry.Storage;

/// <summary>An issued certificate as listed, with its DER and when it was issued.</summary>
public sealed record IssuedCertificateView(CertificateInfo Info, DateTimeOffset IssuedAt, byte[] Der);
