/// Key paths as the config error messages print them.
enum KeyPathFormat {
    /// A key as written in TOML: bare when it only holds `A-Za-z0-9_-`, otherwise quoted.
    static func component(_ key: String) -> String {
        if !key.isEmpty, key.utf8.allSatisfy(isBareKeyByte) { return key }
        return TOMLText.quoted(key)
    }

    /// `parent.key`, or `key` at the root.
    static func child(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? component(key) : parent + "." + component(key)
    }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// The path one level up (`a.b[2]` → `a.b`, `a.b` → `a`, `a` → nil), ignoring dots and
    /// brackets inside quoted components.
    static func parent(of path: String) -> String? {
        var cut: String.Index?
        var inQuotes = false
        var escaped = false
        var index = path.startIndex
        while index < path.endIndex {
            let character = path[index]
            if inQuotes {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes = false
                }
            } else if character == "\"" {
                inQuotes = true
            } else if character == "." || character == "[" {
                cut = index
            }
            index = path.index(after: index)
        }
        guard let cut else { return nil }
        return String(path[..<cut])
    }
}

/// TOML text helpers shared by the renderer and the messages.
enum TOMLText {
    /// A TOML basic string literal with everything that needs it escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A quoted preview for messages, shortened to `limit` characters.
    static func preview(_ text: String, limit: Int = 48) -> String {
        if text.count <= limit { return quoted(text) }
        return quoted(String(text.prefix(limit))) + "…"
    }
}

/// Where keys are in the TOML text.
///
/// TOMLKit does not expose node source positions, so this runs a small lexer over a document
/// that toml++ has already accepted and remembers the first line of every key path (including
/// dotted keys, inline tables, array elements and `[[array]]` entries as `name[0]`). It also
/// finds NUL escapes (`\u0000`) in basic strings, which TOMLKit's C-string bridge would silently
/// truncate.
///
/// It never traps and always advances, whatever the input.
struct SourceIndex {
    private var firstLine: [String: Int] = [:]
    /// Line and column of each `\u0000` / `\U00000000` escape in a basic string.
    private(set) var nulEscapes: [(line: Int, column: Int)] = []

    /// An index with no positions (for configs built in code).
    init() {}

    init(_ text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.run()
        firstLine = scanner.firstLine
        nulEscapes = scanner.nulEscapes
    }

    /// The line of `path`, else of its closest ancestor that appears in the text.
    func line(for path: String) -> Int? {
        var current: String? = path
        while let candidate = current {
            if let line = firstLine[candidate] { return line }
            current = KeyPathFormat.parent(of: candidate)
        }
        return nil
    }

    /// The line where `path` itself is written, without falling back to an ancestor.
    func exactLine(for path: String) -> Int? { firstLine[path] }

    // MARK: - The lexer

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        var firstLine: [String: Int] = [:]
        var nulEscapes: [(line: Int, column: Int)] = []
        /// Offsets of the first byte of every line.
        let lineStarts: [Int]
        /// For each `[[array]]` base path, the index of its current element.
        var arrayElements: [String: Int] = [:]

        static let maxDepth = 512

        init(bytes: [UInt8]) {
            self.bytes = bytes
            var starts = [0]
            for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
                starts.append(offset + 1)
            }
            lineStarts = starts
        }

        func line(at offset: Int) -> Int {
            // The last line start <= offset.
            var low = 0
            var high = lineStarts.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
            }
            return low + 1
        }

        func column(at offset: Int) -> Int {
            offset - lineStarts[line(at: offset) - 1] + 1
        }

        var atEnd: Bool { position >= bytes.count }
        var current: UInt8? { position < bytes.count ? bytes[position] : nil }
        func peek(_ ahead: Int) -> UInt8? {
            let index = position + ahead
            return index < bytes.count ? bytes[index] : nil
        }

        mutating func record(_ path: String, line: Int) {
            guard !path.isEmpty, firstLine[path] == nil else { return }
            firstLine[path] = line
            var parent = KeyPathFormat.parent(of: path)
            while let ancestor = parent, firstLine[ancestor] == nil {
                firstLine[ancestor] = line
                parent = KeyPathFormat.parent(of: ancestor)
            }
        }

        mutating func skipSpaces() {
            while let byte = current, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
        }

        mutating func skipToLineEnd() {
            while let byte = current, byte != UInt8(ascii: "\n") { position += 1 }
        }

        /// Spaces, newlines and comments (inside arrays).
        mutating func skipBlank() {
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): position += 1
                case UInt8(ascii: "#"): skipToLineEnd()
                default: return
                }
            }
        }

        mutating func run() {
            var table = ""
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // byte-order mark
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    position += 1
                case UInt8(ascii: "#"):
                    skipToLineEnd()
                case UInt8(ascii: "["):
                    let line = line(at: position)
                    let isArray = peek(1) == UInt8(ascii: "[")
                    position += isArray ? 2 : 1
                    let components = parseKey()
                    skipToLineEnd()
                    guard !components.isEmpty else { continue }
                    table = arrayAwarePath(components, isArrayHeader: isArray)
                    record(table, line: line)
                default:
                    let line = line(at: position)
                    let start = position
                    let components = parseKey()
                    skipSpaces()
                    if current == UInt8(ascii: "=") {
                        position += 1
                        let path = join(table, components)
                        record(path, line: line)
                        scanValue(path: path, depth: 0)
                    }
                    skipToLineEnd()
                    if position == start { position += 1 }
                }
            }
        }

        func join(_ base: String, _ components: [String]) -> String {
            var path = base
            for component in components {
                path = path.isEmpty ? component : path + "." + component
            }
            return path
        }

        /// The path of a table header, with `[[array]]` prefixes pointing at their current element.
        mutating func arrayAwarePath(_ components: [String], isArrayHeader: Bool) -> String {
            var path = ""
            for (offset, component) in components.enumerated() {
                path = path.isEmpty ? component : path + "." + component
                let isLast = offset == components.count - 1
                if isLast && isArrayHeader {
                    let index = arrayElements[path].map { $0 + 1 } ?? 0
                    arrayElements[path] = index
                    path += "[\(index)]"
                } else if let index = arrayElements[path] {
                    path += "[\(index)]"
                }
            }
            return path
        }

        /// A possibly dotted key, each component formatted like ``KeyPathFormat/component(_:)``.
        mutating func parseKey() -> [String] {
            var components: [String] = []
            while true {
                skipSpaces()
                guard let byte = current else { break }
                let key: String?
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    key = basicString(multiline: false)
                } else if byte == UInt8(ascii: "'") {
                    position += 1
                    key = literalString(multiline: false)
                } else if KeyPathFormat.isBareKeyByte(byte) {
                    let start = position
                    while let next = current, KeyPathFormat.isBareKeyByte(next) { position += 1 }
                    key = String(decoding: bytes[start..<position], as: UTF8.self)
                } else {
                    key = nil
                }
                guard let key else { break }
                components.append(KeyPathFormat.component(key))
                skipSpaces()
                if current == UInt8(ascii: ".") {
                    position += 1
                } else {
                    break
                }
            }
            return components
        }

        /// Reads a basic string whose opening quote(s) were consumed; returns its decoded value.
        mutating func basicString(multiline: Bool) -> String {
            var value: [UInt8] = []
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    if !multiline {
                        position += 1
                        break
                    }
                    if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                        position += 3
                        // Up to two more quotes belong to the content.
                        var extra = 0
                        while extra < 2, current == UInt8(ascii: "\"") {
                            position += 1
                            extra += 1
                        }
                        break
                    }
                    value.append(byte)
                    position += 1
                } else if byte == UInt8(ascii: "\\") {
                    let escapeStart = position
                    position += 1
                    guard let escaped = current else { break }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "n"): value.append(0x0A)
                    case UInt8(ascii: "t"): value.append(0x09)
                    case UInt8(ascii: "r"): value.append(0x0D)
                    case UInt8(ascii: "b"): value.append(0x08)
                    case UInt8(ascii: "f"): value.append(0x0C)
                    case UInt8(ascii: "e"): value.append(0x1B)
                    case UInt8(ascii: "u"), UInt8(ascii: "U"):
                        let digits = escaped == UInt8(ascii: "u") ? 4 : 8
                        let end = min(position + digits, bytes.count)
                        let hex = String(decoding: bytes[position..<end], as: UTF8.self)
                        position = end
                        if let code = UInt32(hex, radix: 16) {
                            if code == 0 {
                                nulEscapes.append((line(at: escapeStart), column(at: escapeStart)))
                            }
                            if let scalar = Unicode.Scalar(code) {
                                value.append(contentsOf: Array(String(Character(scalar)).utf8))
                            }
                        }
                    case UInt8(ascii: "\n"), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                        // Line-ending backslash in a multiline string: trim whitespace.
                        while let next = current,
                            next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\n")
                                || next == UInt8(ascii: "\r")
                        {
                            position += 1
                        }
                    default:
                        value.append(escaped)
                    }
                } else if byte == UInt8(ascii: "\n") && !multiline {
                    break
                } else {
                    value.append(byte)
                    position += 1
                }
            }
            return String(decoding: value, as: UTF8.self)
        }

        /// Reads a literal string whose opening quote(s) were consumed.
        mutating func literalString(multiline: Bool) -> String {
            let start = position
            var end = position
            while let byte = current {
                if byte == UInt8(ascii: "'") {
                    if !multiline {
                        end = position
                        position += 1
                        return String(decoding: bytes[start..<end], as: UTF8.self)
                    }
                    if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                        end = position
                        position += 3
                        var extra = 0
                        while extra < 2, current == UInt8(ascii: "'") {
                            position += 1
                            extra += 1
                            end += 1
                        }
                        return String(decoding: bytes[start..<end], as: UTF8.self)
                    }
                    position += 1
                } else if byte == UInt8(ascii: "\n") && !multiline {
                    break
                } else {
                    position += 1
                }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// Skips one value; records the keys of inline tables under `path`.
        mutating func scanValue(path: String?, depth: Int) {
            skipSpaces()
            guard let byte = current, depth < Self.maxDepth else { return }
            switch byte {
            case UInt8(ascii: "\""):
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    position += 3
                    _ = basicString(multiline: true)
                } else {
                    position += 1
                    _ = basicString(multiline: false)
                }
            case UInt8(ascii: "'"):
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    position += 3
                    _ = literalString(multiline: true)
                } else {
                    position += 1
                    _ = literalString(multiline: false)
                }
            case UInt8(ascii: "["):
                position += 1
                var element = 0
                while true {
                    skipBlank()
                    guard let next = current else { return }
                    if next == UInt8(ascii: "]") {
                        position += 1
                        return
                    }
                    let before = position
                    let elementPath = path.map { "\($0)[\(element)]" }
                    if let elementPath { record(elementPath, line: line(at: position)) }
                    scanValue(path: elementPath, depth: depth + 1)
                    skipBlank()
                    if current == UInt8(ascii: ",") {
                        position += 1
                        element += 1
                    }
                    if position == before { position += 1 }
                }
            case UInt8(ascii: "{"):
                position += 1
                while true {
                    skipBlank()
                    guard let next = current else { return }
                    if next == UInt8(ascii: "}") {
                        position += 1
                        return
                    }
                    let before = position
                    let line = line(at: position)
                    let components = parseKey()
                    skipSpaces()
                    if current == UInt8(ascii: "=") {
                        position += 1
                        let childPath = path.map { join($0, components) }
                        if let childPath { record(childPath, line: line) }
                        scanValue(path: childPath, depth: depth + 1)
                    }
                    skipBlank()
                    if current == UInt8(ascii: ",") { position += 1 }
                    if position == before { position += 1 }
                }
            default:
                // A number, boolean or date: runs to a delimiter.
                while let next = current {
                    switch next {
                    case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "\n"),
                        UInt8(ascii: "\r"), UInt8(ascii: "#"):
                        return
                    default:
                        position += 1
                    }
                }
            }
        }
    }
}
