// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.WebConsole.Localization;

/// <summary>
/// The strings every console shows, one table per language. A typed table rather than .resx:
/// every string must be given in both languages (the properties are required), and the
/// compiler, not a test at run time, finds a missing one. Each component's pages have their
/// own table built the same way.
/// </summary>
public sealed record ConsoleText
{
    public required string Product { get; init; }
    public required string SignIn { get; init; }
    public required string SignOut { get; init; }
    public required string AccountName { get; init; }
    public required string Password { get; init; }
    public required string SignedInAs { get; init; }
    public required string Language { get; init; }
    public required string Previous { get; init; }
    public required string Next { get; init; }
    public required string PageNumber { get; init; }
    public required string TimeZoneNote { get; init; }
    public required string LoginFailed { get; init; }
    public required string LockedOut { get; init; }
    public required string Forbidden { get; init; }
    public required string TooManyAttempts { get; init; }
    public required string SignInWithCertificate { get; init; }
    public required string CertificatePresented { get; init; }
    public required string CertificateRefused { get; init; }
    public required string CertificateRevoked { get; init; }
    public required string CertificateNotBound { get; init; }
    public required string RegistrationOfficer { get; init; }
    public required string SecurityOfficer { get; init; }
    public required string SystemAdministrator { get; init; }
    public required string ServiceAdministrator { get; init; }
    public required string Auditor { get; init; }

    public static readonly ConsoleText Vietnamese = new()
    {
        Product = "Bảng điều khiển ExchangeBus",
        SignIn = "Đăng nhập",
        SignOut = "Đăng xuất",
        AccountName = "Tên tài khoản",
        Password = "Mật khẩu",
        SignedInAs = "Đã đăng nhập:",
        Language = "Ngôn ngữ",
        Previous = "Trang trước",
        Next = "Trang sau",
        PageNumber = "Trang",
        TimeZoneNote = "Giờ Việt Nam (UTC+7); di chuột lên để xem giờ UTC.",
        LoginFailed = "Sai tên tài khoản hoặc mật khẩu.",
        LockedOut = "Tài khoản tạm thời bị khóa vì đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.",
        Forbidden = "Vai trò của bạn không cho phép thao tác này.",
        TooManyAttempts = "Có quá nhiều lần đăng nhập trong thời gian ngắn. Vui lòng chờ một phút rồi thử lại.",
        SignInWithCertificate = "Đăng nhập bằng chứng thư số của bạn",
        CertificatePresented = "Trình duyệt đã xuất trình chứng thư số:",
        CertificateRefused = "Chứng thư số này không phải chứng thư quản trị viên hoặc kiểm toán viên còn hiệu lực do hệ thống cấp.",
        CertificateRevoked = "Chứng thư số này đã bị thu hồi.",
        CertificateNotBound = "Chứng thư số này chưa được gắn với tài khoản nào.",
        RegistrationOfficer = "Cán bộ đăng ký",
        SecurityOfficer = "Cán bộ an ninh",
        SystemAdministrator = "Quản trị hệ thống",
        ServiceAdministrator = "Quản trị dịch vụ",
        Auditor = "Kiểm toán viên",
    };

    public static readonly ConsoleText English = new()
    {
        Product = "ExchangeBus console",
        SignIn = "Sign in",
        SignOut = "Sign out",
        AccountName = "Account name",
        Password = "Password",
        SignedInAs = "Signed in as",
        Language = "Language",
        Previous = "Previous",
        Next = "Next",
        PageNumber = "Page",
        TimeZoneNote = "Times in Viet Nam time (UTC+7); hover for UTC.",
        LoginFailed = "Wrong account name or password.",
        LockedOut = "The account is locked for a while after too many failed logins. Try again later.",
        Forbidden = "Your roles do not allow this action.",
        TooManyAttempts = "Too many login attempts in a short time. Wait a minute and try again.",
        SignInWithCertificate = "Sign in with your certificate",
        CertificatePresented = "Your browser presented the certificate:",
        CertificateRefused = "This certificate is not a valid administrator or auditor certificate issued by the bus.",
        CertificateRevoked = "This certificate is revoked.",
        CertificateNotBound = "No account is bound to this certificate.",
        RegistrationOfficer = "Registration officer",
        SecurityOfficer = "Security officer",
        SystemAdministrator = "System administrator",
        ServiceAdministrator = "Service administrator",
        Auditor = "Auditor",
    };

    public static ConsoleText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);

    /// <summary>The person's text for one of the console's own error codes (the code itself is shown beside it).</summary>
    public string Error(string code) => code switch
    {
        ConsoleErrors.LoginFailed => LoginFailed,
        ConsoleErrors.LockedOut => LockedOut,
        ConsoleErrors.Forbidden => Forbidden,
        ConsoleErrors.TooManyAttempts => TooManyAttempts,
        ConsoleErrors.CertificateRefused => CertificateRefused,
        ConsoleErrors.CertificateRevoked => CertificateRevoked,
        ConsoleErrors.CertificateNotBound => CertificateNotBound,
        _ => code,
    };

    public string Role(ConsoleRole role) => role switch
    {
        ConsoleRole.RegistrationOfficer => RegistrationOfficer,
        ConsoleRole.SecurityOfficer => SecurityOfficer,
        ConsoleRole.SystemAdministrator => SystemAdministrator,
        ConsoleRole.ServiceAdministrator => ServiceAdministrator,
        _ => Auditor,
    };
}
