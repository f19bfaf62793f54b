/// The parts of a URL that an allowlist decides on, parsed the way browsers and fetch libraries
/// do (RFC 3986 authority, WHATWG host rules): the userinfo ends at the LAST `@` of the
/// authority, so `http://user@allowed.com@evil.com/` has host `evil.com`; backslashes count as
/// slashes for special schemes; tabs and newlines are removed; hosts are lower-cased, trailing
/// dots dropped, percent-escapes decoded; numeric hosts are parsed as IPv4 in all the forms a
/// fetcher accepts.
public struct ParsedURL: Sendable, Equatable {
    public var scheme: String
    public var userinfo: String?
    /// The host as a name (lower case, no trailing dot), or the IP literal's text.
    public var host: String
    /// The IP address when the host is an IP literal (any spelling).
    public var ip: IPAddress?
    /// The explicit port, or the scheme's default port.
    public var port: Int?

    static let defaultPorts: [String: Int] = ["http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21]
    static let special: Set<String> = ["http", "https", "ws", "wss", "ftp", "file"]

    /// Why a string is not a URL this module accepts.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses `input`.
    public static func parse(_ input: String) throws(ParseError) -> ParsedURL {
        guard input.utf8.count <= 8192 else { throw ParseError(message: "URL longer than 8192 bytes") }
        // WHATWG: strip leading/trailing C0 controls and spaces, remove tabs and newlines.
        var text = String(input.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" })
        var scalars = Substring(text).unicodeScalars
        while let f = scalars.first, f.value <= 0x20 { scalars.removeFirst() }
        while let l = scalars.last, l.value <= 0x20 { scalars.removeLast() }
        text = String(scalars)
        guard let colon = text.firstIndex(of: ":") else { throw ParseError(message: "no scheme") }
        let scheme = text[..<colon].lowercased()
        guard let first = scheme.unicodeScalars.first, ("a"..."z").contains(first),
              scheme.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }) else {
            throw ParseError(message: "invalid scheme")
        }
        var rest = text[text.index(after: colon)...]
        let isSpecial = special.contains(scheme)
        if isSpecial { rest = Substring(String(rest).replacingOccurrences("\\", "/")) }
        // Special schemes tolerate any number of slashes (even none) before the authority.
        if isSpecial {
            rest = rest.drop { $0 == "/" }
        } else {
            guard rest.hasPrefix("//") else { throw ParseError(message: "no authority (//host) in a \(scheme): URL") }
            rest = rest.dropFirst(2)
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var userinfo: String?
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var hostPart = authority
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ParseError(message: "unterminated IPv6 literal") }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ParseError(message: "garbage after the IPv6 literal") }
                port = try parsePort(after.dropFirst())
            }
        } else if let portColon = authority.lastIndex(of: ":") {
            hostPart = authority[..<portColon]
            port = try parsePort(authority[authority.index(after: portColon)...])
        }
        guard !hostPart.isEmpty else { throw ParseError(message: "empty host") }
        var host: String
        var ip: IPAddress?
        if hostPart.hasPrefix("[") {
            let inner = String(hostPart.dropFirst().dropLast())
            guard let parsed = IPAddress.parseIPv6(inner) else { throw ParseError(message: "invalid IPv6 literal") }
            ip = parsed
            host = "[" + inner.lowercased() + "]"
        } else {
            guard let decoded = percentDecode(String(hostPart)) else { throw ParseError(message: "invalid percent-escape in host") }
            host = decoded.lowercased()
            if host.hasSuffix(".") { host.removeLast() }
            guard !host.isEmpty else { throw ParseError(message: "empty host") }
            guard host.unicodeScalars.allSatisfy({ $0.isASCII }) else {
                throw ParseError(message: "non-ASCII host (list the punycode xn-- form in the allowlist)")
            }
            let forbidden = " #%/:<>?@[\\]^|"
            guard !host.unicodeScalars.contains(where: { $0.value < 0x20 || forbidden.unicodeScalars.contains($0) }) else {
                throw ParseError(message: "forbidden character in host")
            }
            if isSpecial, IPAddress.endsInNumber(host) {
                guard let v4 = IPAddress.parseIPv4(host) else { throw ParseError(message: "invalid IPv4 host") }
                ip = v4
                host = v4.description
            }
        }
        return ParsedURL(scheme: scheme, userinfo: userinfo, host: host, ip: ip, port: port ?? defaultPorts[scheme])
    }

    static func parsePort(_ text: Substring) throws(ParseError) -> Int? {
        if text.isEmpty { return nil }
        guard text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text), n <= 65535 else {
            throw ParseError(message: "invalid port")
        }
        return n
    }

    static func percentDecode(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let b = iterator.next() {
            if b == UInt8(ascii: "%") {
                guard let h = iterator.next(), let l = iterator.next(),
                      let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
