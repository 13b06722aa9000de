// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>Part of a list that may be long (certificates, the audit log) and how long the whole is: what the console pages through.</summary>
public sealed record StoreSlice<T>(IReadOnlyList<T> Items, int Total);
