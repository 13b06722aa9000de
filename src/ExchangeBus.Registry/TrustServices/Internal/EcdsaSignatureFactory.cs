// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;

namespace ExchangeBus.Registry.TrustServices.Internal;

/// <summary>
/// Lets BouncyCastle's token and OCSP generators sign with a .NET <see cref="ECDsa"/> key
/// (ecdsa-with-SHA256): .NET signs several times faster than BouncyCastle, and the private key
/// stays in one object instead of being exported into a second library.
/// </summary>
internal sealed class EcdsaSignatureFactory(ECDsa key) : ISignatureFactory
{
    // ECDsa instances are not documented as thread-safe; the lock covers only the signature
    // itself (tens of microseconds), while hashing and encoding run in parallel.
    private readonly Lock gate = new();

    public object AlgorithmDetails { get; } = new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha256);

    public IStreamCalculator<IBlockResult> CreateCalculator() => new Calculator(this);

    private byte[] Sign(byte[] data)
    {
        var hash = SHA256.HashData(data);
        lock (gate)
        {
            return key.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence);
        }
    }

    private sealed class Calculator(EcdsaSignatureFactory factory) : IStreamCalculator<IBlockResult>
    {
        private readonly MemoryStream buffer = new();

        public Stream Stream => buffer;

        // BouncyCastle disposes the stream before asking for the result; ToArray still works then.
        public IBlockResult GetResult() => new Signature(factory.Sign(buffer.ToArray()));
    }

    private sealed class Signature(byte[] value) : IBlockResult
    {
        public byte[] Collect() => (byte[])value.Clone();

        public int Collect(byte[] destination, int offset)
        {
            value.CopyTo(destination, offset);
            return value.Length;
        }

        public int Collect(Span<byte> destination)
        {
            value.CopyTo(destination);
            return value.Length;
        }

        public int GetMaxResultLength() => value.Length;
    }
}
