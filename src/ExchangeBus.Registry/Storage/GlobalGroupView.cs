// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Storage;

/// <summary>A global group (INSTANCE/CODE) and how many members it has.</summary>
public sealed record GlobalGroupView(string Group, string Description, int Members);
