// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using ExchangeBus.Registry.Tests.TrustServices;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>What the bundle, archive and renewal tests share: reading a zip, and moving openssl's clock.</summary>
internal static class BundleTestFiles
{
    /// <summary>Every entry of a zip, by name.</summary>
    public static SortedDictionary<string, byte[]> Unzip(byte[] zip)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var archive = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[entry.FullName] = buffer.ToArray();
        }

        return files;
    }

    /// <summary>
    /// <paramref name="command"/> run by sh in <paramref name="folder"/> with the clock moved by
    /// libfaketime (<paramref name="ahead"/>, e.g. "+3y"; the Debian package faketime, which test.sh
    /// installs): a machine without it fails these tests, never skips them.
    /// </summary>
    public static async Task<OpenSslResult> FaketimeAsync(string folder, string ahead, string command)
    {
        var present = await OpenSsl.ShellAsync(folder, "command -v faketime");
        Assert.That(present.ExitCode, Is.Zero, "faketime is not installed (apt-get install faketime; test.sh installs it)");
        return await OpenSsl.ShellAsync(folder, $"faketime -f '{ahead}' sh -c '{command}'");
    }
}
