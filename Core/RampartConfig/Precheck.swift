/// A lexical pass that keeps toml++ away from the inputs it asserts on.
///
/// toml++ 3.4.0 (inside TOMLKit 0.6.0) reports malformed documents as parse errors, except for a
/// few shapes where it reaches a `TOML_ASSERT_ASSUME` instead: an abort in builds compiled without
/// `NDEBUG` (SwiftPM debug builds), undefined behaviour in the others. Found by fuzzing:
///
/// - a table header whose first character cannot start a key: `[ = x]`, `[[+a]]`;
/// - `}` where an array element should start: `a = [1, }`;
/// - a date followed by `T` and a non-digit: `a = 2020-01-01T:`.
///
/// This pass walks the document like a TOML lexer and reports those itself, together with any
/// bare value that is not a TOML number, boolean, date or time (which covers the third case and
/// any other malformed scalar). On other malformations it stops and leaves the document to
/// toml++, which stops at its first error and so never reaches the unchecked rest.
///
/// It only ever reports invalid TOML: every finding is a real syntax error.
///
/// Public for every other TOML reader in Rampart (the throttle plugin's config): run it before
/// handing text to TOMLKit.
public enum TOMLPrecheck {
    /// A syntax error found before toml++ saw the document.
    public struct Finding: Equatable, Sendable {
        /// Byte offset of the offending character or value.
        public var offset: Int
        /// The explanation (without the "TOML syntax error:" prefix).
        public var message: String
    }

    /// The first construct toml++ must not see, if any.
    public static func check(_ bytes: [UInt8]) -> Finding? {
        var lexer = Lexer(bytes: bytes)
        do throws(Outcome) {
            try lexer.document()
            return nil
        } catch {
            switch error {
            case .finding(let finding): return finding
            case .stop: return nil
            }
        }
    }

    private enum Outcome: Error {
        /// A construct toml++ must not see.
        case finding(Finding)
        /// Some other malformation: toml++ reports it properly.
        case stop
    }

    private struct Lexer {
        let bytes: [UInt8]
        var position = 0

        static let maxDepth = 300

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

        func isTriple(_ quote: UInt8) -> Bool {
            byte(at: position) == quote && byte(at: position + 1) == quote && byte(at: position + 2) == quote
        }

        static func isKeyStart(_ byte: UInt8) -> Bool {
            KeyPathFormat.isBareKeyByte(byte) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
        }

        /// Skips spaces and tabs; returns whether there were any.
        @discardableResult
        mutating func skipSpaces() -> Bool {
            let start = position
            while let byte = current, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
            return position != start
        }

        mutating func skipComment() {
            guard current == UInt8(ascii: "#") else { return }
            while let byte = current, byte != UInt8(ascii: "\n") { position += 1 }
        }

        /// Spaces, line breaks and comments.
        mutating func skipBlank() {
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): position += 1
                case UInt8(ascii: "#"): skipComment()
                default: return
                }
            }
        }

        mutating func document() throws(Outcome) {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
            while true {
                skipBlank()
                guard let byte = current else { return }
                if byte == UInt8(ascii: "[") {
                    try header()
                } else {
                    try keyValue(depth: 0)
                }
                skipSpaces()
                skipComment()
                if let end = current, end != UInt8(ascii: "\n"), end != UInt8(ascii: "\r") { throw .stop }
            }
        }

        mutating func header() throws(Outcome) {
            position += 1
            let hadSpaces = skipSpaces()
            var isArray = false
            if current == UInt8(ascii: "[") {
                if hadSpaces { throw .stop }  // "[ [": toml++ reports it
                isArray = true
                position += 1
                skipSpaces()
            }
            guard let first = current, first != UInt8(ascii: "]") else { throw .stop }
            guard Self.isKeyStart(first) else {
                throw .finding(
                    Finding(offset: position, message: "a table header must start with a key, saw \(Self.show(first))"))
            }
            try key()
            skipSpaces()
            guard current == UInt8(ascii: "]") else { throw .stop }
            position += 1
            if isArray {
                guard current == UInt8(ascii: "]") else { throw .stop }
                position += 1
            }
        }

        mutating func keyValue(depth: Int) throws(Outcome) {
            try key()
            skipSpaces()
            guard current == UInt8(ascii: "=") else { throw .stop }
            position += 1
            skipSpaces()
            try value(depth: depth)
        }

        mutating func key() throws(Outcome) {
            while true {
                skipSpaces()
                guard let byte = current else { throw .stop }
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    try basicString()
                } else if byte == UInt8(ascii: "'") {
                    position += 1
                    try literalString()
                } else if KeyPathFormat.isBareKeyByte(byte) {
                    while let next = current, KeyPathFormat.isBareKeyByte(next) { position += 1 }
                } else {
                    throw .stop
                }
                skipSpaces()
                guard current == UInt8(ascii: ".") else { return }
                position += 1
            }
        }

        /// After the opening quote of a single-line basic string.
        mutating func basicString() throws(Outcome) {
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\n"): throw .stop
                default: position += 1
                }
            }
            throw .stop
        }

        /// After the opening quote of a single-line literal string.
        mutating func literalString() throws(Outcome) {
            while let byte = current {
                switch byte {
                case UInt8(ascii: "'"):
                    position += 1
                    return
                case UInt8(ascii: "\n"): throw .stop
                default: position += 1
                }
            }
            throw .stop
        }

        /// After the opening `"""` / `'''` of a multi-line string.
        mutating func multilineString(_ quote: UInt8) throws(Outcome) {
            while position < bytes.count {
                if isTriple(quote) {
                    position += 3
                    // Up to two more quotes are content right before the closing delimiter.
                    var extra = 0
                    while extra < 2, current == quote {
                        position += 1
                        extra += 1
                    }
                    return
                }
                position += quote == UInt8(ascii: "\"") && current == UInt8(ascii: "\\") ? 2 : 1
            }
            throw .stop
        }

        mutating func value(depth: Int) throws(Outcome) {
            guard depth < Self.maxDepth, let byte = current else { throw .stop }
            switch byte {
            case UInt8(ascii: "\""):
                if isTriple(byte) {
                    position += 3
                    try multilineString(byte)
                } else {
                    position += 1
                    try basicString()
                }
            case UInt8(ascii: "'"):
                if isTriple(byte) {
                    position += 3
                    try multilineString(byte)
                } else {
                    position += 1
                    try literalString()
                }
            case UInt8(ascii: "["):
                try array(depth: depth + 1)
            case UInt8(ascii: "{"):
                try inlineTable(depth: depth + 1)
            case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "#"), UInt8(ascii: "\n"),
                UInt8(ascii: "\r"):
                throw .stop
            default:
                try scalar()
            }
        }

        mutating func array(depth: Int) throws(Outcome) {
            position += 1
            while true {
                skipBlank()
                guard let byte = current else { throw .stop }
                switch byte {
                case UInt8(ascii: "]"):
                    position += 1
                    return
                case UInt8(ascii: "}"):
                    throw .finding(Finding(offset: position, message: "expected a value or ']' in an array, saw '}'"))
                case UInt8(ascii: ","):
                    throw .stop
                default:
                    break
                }
                try value(depth: depth)
                skipBlank()
                if current == UInt8(ascii: ",") {
                    position += 1
                } else if current == UInt8(ascii: "]") {
                    position += 1
                    return
                } else {
                    throw .stop
                }
            }
        }

        mutating func inlineTable(depth: Int) throws(Outcome) {
            position += 1
            skipSpaces()
            if current == UInt8(ascii: "}") {
                position += 1
                return
            }
            while true {
                try keyValue(depth: depth)
                skipSpaces()
                if current == UInt8(ascii: ",") {
                    position += 1
                } else if current == UInt8(ascii: "}") {
                    position += 1
                    return
                } else {
                    throw .stop
                }
            }
        }

        static func isTerminator(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ","),
                UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#"):
                true
            default:
                false
            }
        }

        mutating func scalar() throws(Outcome) {
            let start = position
            while let byte = current, !Self.isTerminator(byte) { position += 1 }
            // A date and a time may be separated by one space.
            if ScalarSyntax.isDate(bytes[start..<position]), current == UInt8(ascii: " "),
                let next = byte(at: position + 1), ScalarSyntax.isDigit(next)
            {
                position += 1
                while let byte = current, !Self.isTerminator(byte) { position += 1 }
            }
            let token = bytes[start..<position]
            guard !ScalarSyntax.isValid(token) else { return }
            let looksLikeWord =
                token.allSatisfy { KeyPathFormat.isBareKeyByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") }
                && token.contains { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }
            let hint =
                looksLikeWord
                ? " (strings must be quoted)" : " (expected a quoted string, a number, true, false, a date or a time)"
            throw .finding(Finding(offset: start, message: "invalid value \(Self.show(token))" + hint))
        }

        /// `'x'` for messages, control and non-ASCII bytes as `?`, shortened.
        static func show(_ bytes: some Collection<UInt8>) -> String {
            let printable = bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
            return "'" + String(decoding: printable, as: UTF8.self) + (bytes.count > 40 ? "…" : "") + "'"
        }

        static func show(_ byte: UInt8) -> String { show([byte]) }
    }
}

/// The shapes of TOML 1.0 bare values.
enum ScalarSyntax {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func isValid(_ token: ArraySlice<UInt8>) -> Bool {
        let text = Array(token)
        if text == Array("true".utf8) || text == Array("false".utf8) { return true }
        return isSpecialFloat(text) || isPrefixedInteger(text) || isDecimalNumber(text) || isDateTime(text)
    }

    static func isDate(_ token: ArraySlice<UInt8>) -> Bool {
        var cursor = Cursor(Array(token))
        return cursor.date() && cursor.atEnd
    }

    private static func isSpecialFloat(_ text: [UInt8]) -> Bool {
        var cursor = Cursor(text)
        _ = cursor.eat(UInt8(ascii: "+")) || cursor.eat(UInt8(ascii: "-"))
        return (cursor.eat("inf") || cursor.eat("nan")) && cursor.atEnd
    }

    private static func isPrefixedInteger(_ text: [UInt8]) -> Bool {
        var cursor = Cursor(text)
        if cursor.eat("0x") {
            return cursor.digits(isHex) && cursor.atEnd
        }
        if cursor.eat("0o") {
            return cursor.digits { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") } && cursor.atEnd
        }
        if cursor.eat("0b") {
            return cursor.digits { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") } && cursor.atEnd
        }
        return false
    }

    /// Decimal integers and floats.
    private static func isDecimalNumber(_ text: [UInt8]) -> Bool {
        var cursor = Cursor(text)
        _ = cursor.eat(UInt8(ascii: "+")) || cursor.eat(UInt8(ascii: "-"))
        if cursor.eat(UInt8(ascii: "0")) {
            // A lone zero: no more integer digits.
        } else if let first = cursor.peek, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") {
            guard cursor.digits(isDigit) else { return false }
        } else {
            return false
        }
        if cursor.eat(UInt8(ascii: ".")) {
            guard cursor.digits(isDigit) else { return false }
        }
        if cursor.eat(UInt8(ascii: "e")) || cursor.eat(UInt8(ascii: "E")) {
            _ = cursor.eat(UInt8(ascii: "+")) || cursor.eat(UInt8(ascii: "-"))
            guard cursor.digits(isDigit) else { return false }
        }
        return cursor.atEnd
    }

    /// Local date, local time, local or offset date-time.
    private static func isDateTime(_ text: [UInt8]) -> Bool {
        var cursor = Cursor(text)
        if cursor.time() { return cursor.atEnd }
        cursor = Cursor(text)
        guard cursor.date() else { return false }
        if cursor.atEnd { return true }
        guard cursor.eat(UInt8(ascii: "T")) || cursor.eat(UInt8(ascii: "t")) || cursor.eat(UInt8(ascii: " ")) else {
            return false
        }
        guard cursor.time() else { return false }
        if cursor.eat(UInt8(ascii: "Z")) || cursor.eat(UInt8(ascii: "z")) { return cursor.atEnd }
        if cursor.eat(UInt8(ascii: "+")) || cursor.eat(UInt8(ascii: "-")) {
            guard cursor.fixedDigits(2), cursor.eat(UInt8(ascii: ":")), cursor.fixedDigits(2) else { return false }
        }
        return cursor.atEnd
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    private struct Cursor {
        let text: [UInt8]
        var index = 0

        init(_ text: [UInt8]) { self.text = text }

        var atEnd: Bool { index == text.count }
        var peek: UInt8? { index < text.count ? text[index] : nil }

        mutating func eat(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func eat(_ literal: String) -> Bool {
            let bytes = Array(literal.utf8)
            guard text.count - index >= bytes.count, Array(text[index..<index + bytes.count]) == bytes else {
                return false
            }
            index += bytes.count
            return true
        }

        /// `d (_? d)*`
        mutating func digits(_ isDigit: (UInt8) -> Bool) -> Bool {
            guard let first = peek, isDigit(first) else { return false }
            index += 1
            while let next = peek {
                if isDigit(next) {
                    index += 1
                } else if next == UInt8(ascii: "_"), index + 1 < text.count, isDigit(text[index + 1]) {
                    index += 2
                } else {
                    break
                }
            }
            return true
        }

        mutating func fixedDigits(_ count: Int) -> Bool {
            for _ in 0..<count {
                guard let next = peek, ScalarSyntax.isDigit(next) else { return false }
                index += 1
            }
            return true
        }

        /// `YYYY-MM-DD`
        mutating func date() -> Bool {
            fixedDigits(4) && eat(UInt8(ascii: "-")) && fixedDigits(2) && eat(UInt8(ascii: "-")) && fixedDigits(2)
        }

        /// `HH:MM[:SS[.fraction]]`
        mutating func time() -> Bool {
            guard fixedDigits(2), eat(UInt8(ascii: ":")), fixedDigits(2) else { return false }
            if eat(UInt8(ascii: ":")) {
                guard fixedDigits(2) else { return false }
                if eat(UInt8(ascii: ".")) {
                    guard let next = peek, ScalarSyntax.isDigit(next) else { return false }
                    while let next = peek, ScalarSyntax.isDigit(next) { index += 1 }
                }
            }
            return true
        }
    }
}
