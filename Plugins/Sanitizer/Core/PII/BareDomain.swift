/// Host names written without a scheme or `www.` ("example.com", "example.co.uk"): reported as
/// `URL` (an opt-in type, like the scheme and `www.` forms) when the top-level label is a real
/// one that prose and code seldom end a dotted word with.
///
/// The candidate is anchored on the dot and top-level label (a literal Hyperscan finds cheaply);
/// the host is grown in Swift to the left, further labels and a path to the right. The top-level
/// label must be written in lower case ("ASP.NET" and "VB.NET" are product names, "Amazon.com" a
/// host), and must be one of:
/// - the original and common generic TLDs (`com`, `net`, `org`, `edu`, `gov`, `io`, …);
/// - a country code that is not also a common file extension or English word (`de`, `uk`, `jp`,
///   …: `md`, `py`, `sh`, `rs`, `pl`, `in`, `it`, `is`, `at`, `be`, `to`, `us` are left out);
/// - any two-letter country code after a registry's second-level label (`co.il`, `com.au`,
///   `ac.jp`, `go.kr`, …).
extension ContactRules {
    /// Generic top-level labels accepted directly.
    static let genericTLDs: Set<String> = [
        "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "mobi", "io", "co", "app", "dev",
        "cloud", "online", "site", "website", "xyz", "tech", "store", "shop", "blog", "news", "live", "eu",
    ]

    /// Country-code top-level labels accepted directly (not file extensions or English words).
    static let countryTLDs: Set<String> = [
        "ar", "au", "br", "ca", "ch", "cl", "cn", "cz", "de", "dk", "es", "fi", "fr", "gr", "hk", "hu", "ie", "il", "jp", "kr",
        "mx", "nl", "nz", "pt", "ro", "ru", "se", "sg", "tr", "tw", "ua", "uk", "za",
    ]

    /// Registries' second-level labels under which any two-letter country code is a host.
    static let secondLevelLabels: Set<String> = ["co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go", "gob", "gouv"]

    /// The candidate: a letter or digit, a dot and an accepted top-level label (or a second-level
    /// label, a dot and two letters), ending the word.
    static let bareDomainExpression: String = {
        let direct = (genericTLDs.union(countryTLDs)).sorted().joined(separator: "|")
        let registries = secondLevelLabels.sorted().joined(separator: "|")
        return #"[A-Za-z0-9]\.("# + direct + "|(" + registries + #")\.[a-z]{2})\b"#
    }()

    /// Host names without a scheme (see the extension's note).
    static let bareDomain = SensitiveRule("URL", .pii, bareDomainExpression, priority: 0) { text, range in
        bareDomainRange(text, range)
    }

    static func isHostByte(_ b: UInt8) -> Bool { Text.isAlnum(b) || b == 0x2D || b == 0x2E }

    /// The host (and path) around a candidate, or nil when it is no host name.
    static func bareDomainRange(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let start = Text.extendLeft(text, to: range.lowerBound + 1, limit: 253) { isHostByte($0) }
        // Part of an address, a URL or a path already (the other rules report those), or glued to
        // something that is not a separator.
        if start > 0, [0x40, 0x2F, 0x3A, 0x5C, 0x5F].contains(text[start - 1]) { return nil }
        var hostEnd = Text.extendRight(text, from: range.lowerBound + 1, limit: 253) { isHostByte($0) }
        while hostEnd > start, text[hostEnd - 1] == 0x2E || text[hostEnd - 1] == 0x2D { hostEnd -= 1 }
        if hostEnd < text.count, text[hostEnd] == 0x40 || text[hostEnd] == 0x5F { return nil }
        let labels = text[start..<hostEnd].split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.count <= 8,
              labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.first != 0x2D && $0.last != 0x2D }),
              let last = labels.last, last.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return nil }
        let tld = String(decoding: last, as: UTF8.self)
        let second = String(decoding: labels[labels.count - 2], as: UTF8.self).lowercased()
        let accepted = genericTLDs.contains(tld) || countryTLDs.contains(tld)
            || tld.utf8.count == 2 && labels.count >= 3 && secondLevelLabels.contains(second)
        // A name before the registry's labels, with a letter in it ("1.5.com" is no host).
        let name = labels[labels.count - (secondLevelLabels.contains(second) && tld.utf8.count == 2 && labels.count >= 3 ? 3 : 2)]
        guard accepted, name.contains(where: { Text.isAlnum($0) && !Text.isDigit($0) }) else { return nil }
        // A path: URL characters up to whitespace or a closing delimiter.
        var end = hostEnd
        if hostEnd < text.count, text[hostEnd] == 0x2F {
            end = Text.extendRight(text, from: hostEnd, limit: 2048) { b in
                b > 0x20 && b < 0x7F && b != 0x22 && b != 0x27 && b != 0x3C && b != 0x3E && b != 0x60
            }
            while end > hostEnd, [0x2E, 0x2C, 0x3B, 0x3A, 0x29, 0x21, 0x3F].contains(text[end - 1]) { end -= 1 }
        }
        return start..<end
    }
}
