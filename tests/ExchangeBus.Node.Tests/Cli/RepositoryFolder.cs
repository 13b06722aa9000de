// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Tests.Cli;

/// <summary>The repository's root folder, for the tests that run its docs as written.</summary>
internal static class RepositoryFolder
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ExchangeBus.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ExchangeBus.sln not found above " + AppContext.BaseDirectory);
    }
}
