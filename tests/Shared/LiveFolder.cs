// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Tests.Shared;

/// <summary>
/// Looks into a folder a running node is writing. A file listed there can be gone before it is
/// looked at (a part renamed into <c>objects/</c> once complete, a temporary file dropped); it is
/// then passed by, not an error. Linked into each test project that watches a node's files.
/// </summary>
internal static class LiveFolder
{
    /// <summary>The lengths of the files in <paramref name="folder"/> matching <paramref name="pattern"/>; none while the folder does not exist.</summary>
    public static IEnumerable<long> Lengths(string folder, string pattern = "*")
    {
        string[] listed;
        try
        {
            listed = Directory.GetFiles(folder, pattern);
        }
        catch (DirectoryNotFoundException)
        {
            listed = [];
        }

        foreach (var path in listed)
        {
            // One stat: Exists fills the FileInfo, so Length answers from what it saw and cannot
            // throw FileNotFoundException for a file gone since (new FileInfo(path).Length did).
            var file = new FileInfo(path);
            if (file.Exists)
            {
                yield return file.Length;
            }
        }
    }
}
