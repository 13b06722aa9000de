// SPDX-License-Identifier: Apache-2.0
// Nodes run on Linux servers; these tests check Unix file modes and signals.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
