// SPDX-License-Identifier: Apache-2.0
using Microsoft.Extensions.Options;

namespace ExchangeBus.Grpc;

public static class OptionsInstance
{
    /// <summary>
    /// Starts the options from <paramref name="instance"/> instead of a new, empty object: for
    /// immutable options records built in code (the servers' start facades, tests), which
    /// <c>Configure</c> cannot set. Configuration, post-configuration and validation
    /// (<c>ValidateOnStart</c>) still run on it as on any options.
    /// </summary>
    public static OptionsBuilder<TOptions> FromInstance<TOptions>(this OptionsBuilder<TOptions> builder, TOptions instance)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(instance);
        builder.Services.AddSingleton<IOptionsFactory<TOptions>>(provider => new Factory<TOptions>(
            instance,
            provider.GetServices<IConfigureOptions<TOptions>>(),
            provider.GetServices<IPostConfigureOptions<TOptions>>(),
            provider.GetServices<IValidateOptions<TOptions>>()));
        return builder;
    }

    private sealed class Factory<TOptions>(
        TOptions instance,
        IEnumerable<IConfigureOptions<TOptions>> setups,
        IEnumerable<IPostConfigureOptions<TOptions>> postConfigures,
        IEnumerable<IValidateOptions<TOptions>> validations) : OptionsFactory<TOptions>(setups, postConfigures, validations)
        where TOptions : class
    {
        protected override TOptions CreateInstance(string name) => instance;
    }
}
