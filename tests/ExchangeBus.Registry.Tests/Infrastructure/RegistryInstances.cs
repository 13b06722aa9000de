// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>What a second registry instance is given: its own data folder, holding a copy of the first one's keys.</summary>
public static class RegistryInstances
{
    public static void CopyKeys(string fromKeys, string toKeys)
    {
        Directory.CreateDirectory(toKeys);
        foreach (var file in Directory.GetFiles(fromKeys))
        {
            File.Copy(file, Path.Combine(toKeys, Path.GetFileName(file)));
        }
    }
}
