// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>
/// A registry's data folder with a development PKI in its <c>keys/</c>, loaded, for tests that
/// open registry stores on it themselves rather than through a <see cref="RegistryFixture"/>.
/// </summary>
public sealed class TempRegistryKeys : IDisposable
{
    public TempRegistryKeys(string prefix)
    {
        Folder = Directory.CreateTempSubdirectory(prefix).FullName;
        var keys = Path.Combine(Folder, RegistryKeys.Folder);
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = keys, Instance = RegistryFixture.Instance });
        Keys = RegistryKeys.Load(keys, TimeProvider.System);
    }

    public string Folder { get; }

    public RegistryKeys Keys { get; }

    public void Dispose()
    {
        Keys.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
