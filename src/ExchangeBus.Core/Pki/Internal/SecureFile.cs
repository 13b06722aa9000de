// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;

namespace ExchangeBus.Core.Pki.Internal;

/// <summary>
/// Writes files so that a reader sees either the old content or the whole new content, never a
/// half-written key, and so that a key is never, even briefly, readable by anyone but the owner.
/// </summary>
internal static class SecureFile
{
    public const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyDirectory =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode PublicReadable =
        OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Writes to a temporary file in the same directory (so the rename stays on one file system),
    /// flushes it to disk, then renames it over <paramref name="path"/>.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content, UnixFileMode mode, bool overwrite)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' has no parent directory.", nameof(path));
        if (!overwrite && File.Exists(fullPath))
        {
            throw new PkiException(PkiErrors.FileAlreadyExists, $"'{fullPath}' already exists.");
        }

        var tempPath = Path.Combine(
            directory,
            $".{Path.GetFileName(fullPath)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            // The mode is applied by open(2) itself, so there is no window in which the file
            // exists with the umask's wider permissions.
            options.UnixCreateMode = mode;
        }

        try
        {
            using (var stream = new FileStream(tempPath, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            // Without overwrite, .NET refuses an existing target, so a file made by someone else
            // between our check and now is not clobbered.
            File.Move(tempPath, fullPath, overwrite);
        }
        catch (IOException ex) when (!overwrite && File.Exists(fullPath))
        {
            throw new PkiException(PkiErrors.FileAlreadyExists, $"'{fullPath}' already exists.", ex);
        }
        finally
        {
            if (File.Exists(tempPath))
            {
                File.Delete(tempPath);
            }
        }
    }

    /// <summary>
    /// Creates a directory readable by its owner only. An existing directory is left as it is:
    /// it may be a shared one the caller chose (and the key files in it are 0600 anyway).
    /// </summary>
    public static void EnsureDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    /// <summary>Reads a small file, refusing anything over <paramref name="maxBytes"/> before reading it.</summary>
    public static byte[] ReadBounded(string path, int maxBytes)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > maxBytes)
            {
                throw new PkiException(
                    PkiErrors.FileTooLarge,
                    $"'{path}' is {stream.Length} bytes; at most {maxBytes} are accepted.");
            }

            var buffer = new byte[(int)stream.Length];
            stream.ReadExactly(buffer);
            return buffer;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PkiException(PkiErrors.FileNotFound, $"'{path}' does not exist.", ex);
        }
    }
}
