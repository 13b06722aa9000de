// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Storage;

/// <summary>A member class and how many members it has.</summary>
public sealed record MemberClassView(string Code, string Description, int Members);
