// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Files;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>Which file names a node takes from its systems and from peers (both check <see cref="FileDocuments.IsSafeFileName"/>).</summary>
public sealed class FileNameTests
{
    [TestCase("scan.pdf")]
    [TestCase("Giấy khai sinh - bản sao.pdf")]
    [TestCase("a.b.c")]
    [TestCase(".profile-photo.jpg")]
    public void PlainNames_Taken(string name) => Assert.That(FileDocuments.IsSafeFileName(name), Is.True);

    [TestCase("", TestName = "empty")]
    [TestCase("..", TestName = "dot-dot")]
    [TestCase(".", TestName = "dot")]
    [TestCase("../passwd", TestName = "parent path")]
    [TestCase("dossier/scan.pdf", TestName = "slash")]
    [TestCase("dossier\\scan.pdf", TestName = "backslash")]
    [TestCase("scan.pdf:hidden", TestName = "colon: an NTFS alternate stream")]
    [TestCase("C:scan.pdf", TestName = "drive-relative")]
    [TestCase("scan.pdf.", TestName = "trailing dot, dropped by Windows")]
    [TestCase("scan.pdf ", TestName = "trailing space, dropped by Windows")]
    [TestCase("invoice\u202Efdp.exe", TestName = "right-to-left override")]
    [TestCase("scan\u200B.pdf", TestName = "zero-width space")]
    [TestCase("line\u2028break.pdf", TestName = "line separator")]
    [TestCase("bell\u0007.pdf", TestName = "control character")]
    [TestCase("what?.pdf", TestName = "question mark")]
    [TestCase("a<b>.pdf", TestName = "angle brackets")]
    [TestCase("pipe|.pdf", TestName = "pipe")]
    [TestCase("star*.pdf", TestName = "star")]
    [TestCase("quote\".pdf", TestName = "double quote")]
    public void UnsafeNames_Refused(string name) => Assert.That(FileDocuments.IsSafeFileName(name), Is.False);

    [Test]
    public void LongestNameTaken_OneMoreRefused()
    {
        Assert.That(FileDocuments.IsSafeFileName(new string('a', 255)), Is.True);
        Assert.That(FileDocuments.IsSafeFileName(new string('a', 256)), Is.False);
    }
}
