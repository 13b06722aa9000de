// SPDX-License-Identifier: Apache-2.0
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Node.Files;

/// <summary>
/// The node's file contents, content-addressed under <c>files/</c> in its data folder:
/// <c>objects/&lt;sha256&gt;</c> holds verified files (one copy however many ids or recipients name
/// it), <c>tmp/</c> what a system is sending right now, <c>incoming/&lt;key&gt;.part</c> the verified
/// chunks of a file a peer is pushing, kept across interruptions so a push can resume. Only
/// <c>objects/</c> is ever read for a system; a file gets there whole and verified, by a rename.
/// </summary>
public sealed class FileStore
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Content held by a send or push between its check and its record (see Hold).
    private readonly Lock _holdGate = new();
    private readonly Dictionary<string, int> _holds = new(StringComparer.Ordinal);

    public FileStore(string root)
    {
        Root = root;
        foreach (var directory in new[] { root, Objects, Temp, Incoming })
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                // Citizens' files: owner-only, like the rest of the data folder.
                Directory.CreateDirectory(directory, OwnerOnlyDirectory);
            }
        }

        // Whatever a system was sending when the node stopped is not accepted: nobody will finish it.
        foreach (var stale in Directory.EnumerateFiles(Temp))
        {
            File.Delete(stale);
        }
    }

    public string Root { get; }

    public string Objects => Path.Combine(Root, "objects");

    public string Temp => Path.Combine(Root, "tmp");

    public string Incoming => Path.Combine(Root, "incoming");

    public string ObjectPath(ReadOnlySpan<byte> sha256) => Path.Combine(Objects, Convert.ToHexStringLower(sha256));

    public bool Has(ReadOnlySpan<byte> sha256) => File.Exists(ObjectPath(sha256));

    public FileStream OpenRead(ReadOnlySpan<byte> sha256) =>
        new(ObjectPath(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>
    /// The resumable part of a pushed file: one name per recipient, sender, file id and content,
    /// never chosen by the peer. The recipient is in the key because the sender delivers to each
    /// recipient on its own: two pushes of one file to two subsystems of this node may run at
    /// once, and with one shared part the first to finish would rename it away under the other.
    /// </summary>
    public string PartPath(string recipient, string sender, string fileId, ReadOnlySpan<byte> sha256)
    {
        var key = SHA256.HashData(Encoding.UTF8.GetBytes($"{recipient}\n{sender}\n{fileId}\n{Convert.ToHexStringLower(sha256)}"));
        return Path.Combine(Incoming, Convert.ToHexStringLower(key) + ".part");
    }

    /// <summary>Bytes free for this process on the filesystem that holds the store (statvfs on Unix).</summary>
    public long AvailableBytes() => new DriveInfo(Root).AvailableFreeSpace;

    /// <summary>
    /// Opens a push's part file, creating it if need be. A new part's directory entry is synced,
    /// so the verified chunks flushed into it later are not lost with the entry in a power cut.
    /// </summary>
    public FileStream OpenPart(string partPath)
    {
        var created = !File.Exists(partPath);
        var part = OpenWrite(partPath, FileMode.OpenOrCreate);
        if (created)
        {
            SyncDirectory(Incoming);
        }

        return part;
    }

    /// <summary>
    /// Deletes part files not written since <paramref name="staleBefore"/>: pushes their senders
    /// gave up on (a sender that comes back later starts from zero). <paramref name="claim"/>
    /// takes a part as a push would, so one being pushed right now is never deleted under it.
    /// </summary>
    public int DeleteStaleParts(DateTimeOffset staleBefore, Func<string, bool> claim, Action<string> release)
    {
        var deleted = 0;
        foreach (var part in Directory.EnumerateFiles(Incoming, "*.part"))
        {
            if (!claim(part))
            {
                continue;
            }

            try
            {
                // One stat says whether the part is still there (a push that finished between the
                // listing and the claim renamed it away) and how old it is: a second look with
                // File.GetLastWriteTimeUtc would date a file gone meanwhile 1601, i.e. stale.
                var file = new FileInfo(part);
                if (file.Exists && file.LastWriteTimeUtc < staleBefore.UtcDateTime)
                {
                    File.Delete(part);
                    deleted++;
                }
            }
            catch (IOException)
            {
                // Tried again at the next sweep.
            }
            finally
            {
                release(part);
            }
        }

        return deleted;
    }

    /// <summary>
    /// The hashes of content in <c>objects/</c> last written before <paramref name="before"/>
    /// (names that are not a hash are passed by), from a listing taken at the first step.
    /// Content removed after the listing (a call letting go of content no file names, while the
    /// sweep walks) is passed by.
    /// </summary>
    public IEnumerable<byte[]> ContentWrittenBefore(DateTimeOffset before)
    {
        foreach (var path in Directory.GetFiles(Objects))
        {
            var name = Path.GetFileName(path);
            if (name.Length != 64 || !name.All(char.IsAsciiHexDigitLower))
            {
                continue;
            }

            // One stat answers both whether it is still there and when it was written:
            // File.GetLastWriteTimeUtc does not throw for a missing file, it answers 1601, which
            // reported content gone since the listing as stale.
            var file = new FileInfo(path);
            if (file.Exists && file.LastWriteTimeUtc < before.UtcDateTime)
            {
                yield return Convert.FromHexString(name);
            }
        }
    }

    /// <summary>
    /// Holds content in <c>objects/</c> while a file naming it is stored and recorded: nothing
    /// removes held content (<see cref="RemoveUnlessNeeded"/> passes it by). When the last holder
    /// lets go, content that no record names (<paramref name="named"/>) is removed, so a send or
    /// push refused after its content reached <c>objects/</c> (<c>files.db</c> on a full disk, a
    /// file id another call took meanwhile) leaves nothing behind. Content of the same hash held
    /// by several calls is judged only when the last lets go, so one call's refusal never removes
    /// what another is about to record.
    /// </summary>
    public IDisposable Hold(byte[] sha256, Func<bool> named)
    {
        var key = Convert.ToHexStringLower(sha256);
        lock (_holdGate)
        {
            _holds[key] = _holds.GetValueOrDefault(key) + 1;
        }

        return new ContentHold(this, key, named);
    }

    /// <summary>
    /// Removes content nobody holds and <paramref name="needed"/> says is no longer needed; false
    /// when it is held, needed or gone. Judged and removed under the same lock a holder takes, so
    /// content a call has just found in the store is never removed under it.
    /// </summary>
    public bool RemoveUnlessNeeded(byte[] sha256, Func<bool> needed)
    {
        var key = Convert.ToHexStringLower(sha256);
        lock (_holdGate)
        {
            var path = Path.Combine(Objects, key);
            if (_holds.ContainsKey(key) || !File.Exists(path) || needed())
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
    }

    private void Release(string key, Func<bool> named)
    {
        lock (_holdGate)
        {
            var left = _holds[key] - 1;
            if (left > 0)
            {
                _holds[key] = left;
                return;
            }

            _holds.Remove(key);
            var path = Path.Combine(Objects, key);
            try
            {
                if (File.Exists(path) && !named())
                {
                    File.Delete(path);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or Microsoft.Data.Sqlite.SqliteException)
            {
                // Kept: content no record names wastes space but harms nothing.
            }
        }
    }

    private sealed class ContentHold(FileStore store, string key, Func<bool> named) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                store.Release(key, named);
            }
        }
    }

    public string NewTempPath() => Path.Combine(Temp, Guid.NewGuid().ToString("N") + ".tmp");

    /// <summary>Creates (or opens) a file owner-only for writing.</summary>
    public static FileStream OpenWrite(string path, FileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows() && mode is FileMode.CreateNew or FileMode.Create or FileMode.OpenOrCreate)
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }

    /// <summary>
    /// Moves a verified, flushed file into the store under its hash. When the content is there
    /// already the file is dropped: the store never holds two copies.
    /// </summary>
    public void Commit(string verifiedPath, ReadOnlySpan<byte> sha256)
    {
        var target = ObjectPath(sha256);
        if (File.Exists(target))
        {
            File.Delete(verifiedPath);
            return;
        }

        File.Move(verifiedPath, target, overwrite: false);

        // The rename is only durable once the directory is: without this a power cut can lose the
        // object after its receipt or acceptance was signed and its row committed.
        SyncDirectory(Objects);
    }

    /// <summary>
    /// fsync on a directory, so the names created or renamed in it survive a power cut. .NET has
    /// no call for it (a FileStream refuses a directory); Windows has no equivalent to call
    /// (NTFS journals its directory changes).
    /// </summary>
    internal static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Posix.Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not open the directory to sync it (errno {error}).", error);
        }

        try
        {
            if (Posix.Fsync(fd) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                throw new IOException($"Could not sync the directory (errno {error}).", error);
            }
        }
        finally
        {
            _ = Posix.Close(fd);
        }
    }

    public static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the next start's clean-up (tmp/) or the next push (incoming/, truncated then).
        }
    }
}

/// <summary>The three libc calls directory syncing needs.</summary>
internal static partial class Posix
{
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}

/// <summary>
/// Hashes content as it streams, whatever the sizes of the pieces it comes in: the whole file's
/// SHA-256 and the SHA-256 of each fixed-size chunk (the manifest's chunk list).
/// </summary>
internal sealed class ChunkHasher(int chunkBytes) : IDisposable
{
    private readonly IncrementalHash _whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _chunk = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly MemoryStream _chunkHashes = new();
    private int _inChunk;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        _whole.AppendData(data);
        Length += data.Length;
        while (!data.IsEmpty)
        {
            var take = Math.Min(chunkBytes - _inChunk, data.Length);
            _chunk.AppendData(data[..take]);
            _inChunk += take;
            data = data[take..];
            if (_inChunk == chunkBytes)
            {
                _chunkHashes.Write(_chunk.GetHashAndReset());
                _inChunk = 0;
            }
        }
    }

    /// <summary>The file's SHA-256 and its chunk list (32 bytes per chunk).</summary>
    public (byte[] Sha256, byte[] ChunkHashes) Complete()
    {
        if (_inChunk > 0)
        {
            _chunkHashes.Write(_chunk.GetHashAndReset());
            _inChunk = 0;
        }

        return (_whole.GetHashAndReset(), _chunkHashes.ToArray());
    }

    public void Dispose()
    {
        _whole.Dispose();
        _chunk.Dispose();
        _chunkHashes.Dispose();
    }
}
