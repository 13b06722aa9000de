// SPDX-License-Identifier: Apache-2.0
// Nodes run on Linux servers; these tests send them Unix signals.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Each test runs a whole bus of processes on two cores: one at a time.
[assembly: NonParallelizable]
