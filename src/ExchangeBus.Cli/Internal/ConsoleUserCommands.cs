// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Core.Pki;
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// <c>xbus registry user add NAME --role ROLE</c> (and, with another store, the node's): a web
/// console account in the component's own database. The password is read from standard input
/// when it is redirected (scripts), or prompted for twice without echo; never from the command
/// line, where other users of the machine and the shell's history would see it.
/// </summary>
internal static class ConsoleUserCommands
{
    // add is given the parse (for the values of storage: further options naming where the
    // accounts are, the registry's --postgres), the data folder, the actor and the account.
    public static Command Create(string component, string dataDescription, string defaultData, Action<ParseResult, string, string, ConsoleAccount> add, params Option[] storage)
    {
        var data = new Option<string>("--data") { Description = dataDescription, DefaultValueFactory = _ => defaultData };
        var name = new Argument<string>("name") { Description = "The account name: letters, digits, '.', '_', '-'." };
        var roles = new Option<string[]>("--role")
        {
            Description = "A role (repeat for several): " + string.Join(", ", ConsoleRoles.All) + ".",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var certificate = new Option<string?>("--certificate")
        {
            Description = "Bind the account to this administrator or auditor certificate (PEM) the bus issued: it then signs the person in too. Its SHA-256 is stored.",
        };
        var addCommand = new Command("add", $"Add a web console account to the {component}; the password is read from standard input or prompted for.") { name, data, roles, certificate };
        foreach (var option in storage)
        {
            addCommand.Options.Add(option);
        }

        addCommand.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var parsed = new HashSet<ConsoleRole>();
            foreach (var text in parse.GetValue(roles) ?? [])
            {
                if (!ConsoleRoles.TryParse(text, out var role))
                {
                    throw new CliException(ConsoleErrors.InvalidAccount, $"Unknown role '{text}'; the roles are {string.Join(", ", ConsoleRoles.All)}.");
                }

                parsed.Add(role);
            }

            var accountName = parse.GetValue(name)!;
            if (!ConsoleAccount.IsValidName(accountName))
            {
                throw new CliException(ConsoleErrors.InvalidAccount, $"An account name is 1-{ConsoleAccount.MaxNameLength} letters, digits, '.', '_' or '-'.");
            }

            // Read before the password, so a wrong path is said before anyone types.
            var fingerprint = parse.GetValue(certificate) is { } file ? Fingerprint(file) : null;
            var password = ReadPassword(parse.InvocationConfiguration.Output);
            if (ConsolePasswords.Check(password).ToArray() is { Length: > 0 } problems)
            {
                throw new CliException(ConsoleErrors.InvalidAccount, string.Join(" ", problems));
            }

            // The operating-system account that ran the command is the audit log's actor, as a certificate's subject is for management calls.
            add(parse, parse.GetValue(data)!, "cli:" + Environment.UserName, new ConsoleAccount(accountName, parsed, ConsolePasswords.Hash(password), 0, null, fingerprint));
            parse.InvocationConfiguration.Output.WriteLine($"Added console account {accountName} ({ConsoleRoles.Format(parsed)}).");
            if (fingerprint is not null)
            {
                parse.InvocationConfiguration.Output.WriteLine($"  bound to the certificate with SHA-256 {fingerprint}");
            }
        }));
        return new Command("user", $"Web console accounts of the {component} (docs/design/console.md).") { addCommand };
    }

    // Whether the certificate is one the bus issued, and not revoked, is checked at each login, not
    // here: a certificate revoked later must stop signing in anyway.
    private static string Fingerprint(string file)
    {
        try
        {
            using var certificate = PemFiles.ReadCertificate(file);
            return ConsoleAccount.Fingerprint(certificate);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or PkiException)
        {
            throw new CliException(ConsoleErrors.InvalidAccount, $"Cannot read the certificate {file}: {ex.Message}");
        }
    }

    private static string ReadPassword(TextWriter output)
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? string.Empty;
        }

        output.Write("Password: ");
        var first = ReadHidden();
        output.Write("Again: ");
        var second = ReadHidden();
        if (first != second)
        {
            throw new CliException(ConsoleErrors.InvalidAccount, "The two passwords differ.");
        }

        return first;
    }

    private static string ReadHidden()
    {
        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.WriteLine();
                return password.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
    }
}
