/// Limits of ``JSONParser``: every one is checked before the work it bounds.
public struct JSONLimits: Sendable, Equatable {
    /// Largest input in bytes.
    public var maxBytes: Int = 1 << 20
    /// Deepest nesting of arrays and objects.
    public var maxDepth: Int = 64
    /// Most values (scalars, arrays and objects) in one document.
    public var maxValues: Int = 100_000
    /// Longest string, in bytes.
    public var maxStringBytes: Int = 256 << 10

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64, maxValues: Int = 100_000, maxStringBytes: Int = 256 << 10) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxValues = maxValues
        self.maxStringBytes = maxStringBytes
    }
}

/// A JSON parse failure with the byte offset where it was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case tooLarge = "too_large"
        case tooDeep = "too_deep"
        case tooManyValues = "too_many_values"
        case syntax
        case invalidUTF8 = "invalid_utf8"
        case duplicateKey = "duplicate_key"
    }
    public var code: Code
    public var offset: Int
    public var message: String
    public var description: String { "JSON \(code.rawValue) at byte \(offset): \(message)" }
}

/// A strict, bounded, iterative JSON parser: no recursion (a 100,000-level document is refused at
/// `maxDepth` without growing the stack), size/value/string limits, UTF-8 validated, duplicate
/// keys refused, no trailing garbage.
public struct JSONParser: Sendable {
    public let limits: JSONLimits

    public init(limits: JSONLimits = JSONLimits()) {
        self.limits = limits
    }

    /// Parses `text`.
    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses UTF-8 `bytes`.
    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(code: .tooLarge, offset: 0, message: "\(bytes.count) bytes exceed the limit of \(limits.maxBytes)")
        }
        var reader = Reader(bytes: bytes, limits: limits)
        return try reader.document()
    }
}

private struct Reader {
    let bytes: [UInt8]
    let limits: JSONLimits
    var i = 0
    var values = 0

    init(bytes: [UInt8], limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    enum Frame {
        case array([JSONValue])
        case object([String: JSONValue], pendingKey: String?)
    }

    func fail(_ code: JSONParseError.Code, _ message: String) -> JSONParseError {
        JSONParseError(code: code, offset: i, message: message)
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func countValue() throws(JSONParseError) {
        values += 1
        if values > limits.maxValues { throw fail(.tooManyValues, "more than \(limits.maxValues) values") }
    }

    mutating func document() throws(JSONParseError) -> JSONValue {
        var stack: [Frame] = []
        var result: JSONValue?
        skipSpace()
        loop: while true {
            // Expect a value (or a closing bracket for an empty container).
            skipSpace()
            guard i < bytes.count else { throw fail(.syntax, "unexpected end of input") }
            var value: JSONValue
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                try countValue()
                guard stack.count < limits.maxDepth else {
                    throw fail(.tooDeep, "nesting deeper than \(limits.maxDepth)")
                }
                i += 1
                skipSpace()
                if c == UInt8(ascii: "[") {
                    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        value = .array([])
                    } else {
                        stack.append(.array([]))
                        continue loop
                    }
                } else {
                    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                        i += 1
                        value = .object([:])
                    } else {
                        let key = try objectKey()
                        stack.append(.object([:], pendingKey: key))
                        continue loop
                    }
                }
            case UInt8(ascii: "\""):
                try countValue()
                value = .string(try string())
            case UInt8(ascii: "t"):
                try countValue(); try literal("true"); value = .bool(true)
            case UInt8(ascii: "f"):
                try countValue(); try literal("false"); value = .bool(false)
            case UInt8(ascii: "n"):
                try countValue(); try literal("null"); value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try countValue()
                value = .number(try number())
            default:
                throw fail(.syntax, "unexpected byte 0x\(String(c, radix: 16))")
            }
            // Attach the value to its container, closing containers as they end. The popped frame
            // is consumed, so its array or dictionary is uniquely referenced and grows in place
            // (matching on a live frame kept a second reference: every element copied the whole
            // container, quadratic in its size).
            while true {
                guard let frame = stack.popLast() else {
                    result = value
                    break loop
                }
                skipSpace()
                switch consume frame {
                case .array(var elements):
                    elements.append(value)
                    guard i < bytes.count else { throw fail(.syntax, "unterminated array") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        stack.append(.array(elements))
                        continue loop
                    }
                    guard bytes[i] == UInt8(ascii: "]") else { throw fail(.syntax, "expected , or ] in array") }
                    i += 1
                    value = .array(elements)
                case .object(var members, let pendingKey):
                    guard let key = pendingKey else { throw fail(.syntax, "internal: no key") }
                    members[key] = value
                    guard i < bytes.count else { throw fail(.syntax, "unterminated object") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        skipSpace()
                        let next = try objectKey()
                        if members[next] != nil { throw fail(.duplicateKey, "duplicate key \(JSONValue.quote(next))") }
                        stack.append(.object(members, pendingKey: next))
                        continue loop
                    }
                    guard bytes[i] == UInt8(ascii: "}") else { throw fail(.syntax, "expected , or } in object") }
                    i += 1
                    value = .object(members)
                }
            }
        }
        skipSpace()
        guard i == bytes.count else { throw fail(.syntax, "trailing characters after the document") }
        guard let result else { throw fail(.syntax, "empty document") }
        return result
    }

    /// Reads `"key"` then `:`.
    mutating func objectKey() throws(JSONParseError) -> String {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail(.syntax, "expected a string key") }
        let key = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail(.syntax, "expected : after a key") }
        i += 1
        return key
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard i + count <= bytes.count else { throw fail(.syntax, "truncated literal") }
        let start = word.utf8Start
        for k in 0..<count where bytes[i + k] != start[k] { throw fail(.syntax, "invalid literal") }
        i += count
    }

    mutating func number() throws(JSONParseError) -> Double {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ r: inout Reader) -> Int {
            let s = r.i
            while r.i < r.bytes.count, r.bytes[r.i] >= 0x30, r.bytes[r.i] <= 0x39 { r.i += 1 }
            return r.i - s
        }
        guard i < bytes.count else { throw fail(.syntax, "truncated number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits(&self) == 0 {
            throw fail(.syntax, "invalid number")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw fail(.syntax, "digits expected after the decimal point") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw fail(.syntax, "digits expected in the exponent") }
        }
        guard i - start <= 64 else { throw fail(.syntax, "number literal longer than 64 characters") }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw fail(.syntax, "number out of range") }
        return value
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail(.syntax, "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail(.syntax, "invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func string() throws(JSONParseError) -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail(.syntax, "unterminated string") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if out.count > limits.maxStringBytes {
                throw fail(.tooLarge, "string longer than \(limits.maxStringBytes) bytes")
            }
            if c < 0x20 { throw fail(.syntax, "control character in string") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { throw fail(.syntax, "unterminated escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail(.syntax, "unpaired surrogate")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail(.syntax, "unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw fail(.syntax, "unpaired surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail(.syntax, "invalid code point") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail(.syntax, "invalid escape")
                }
                continue
            }
            // Copy a run of plain bytes; UTF-8 is validated once at the end.
            out.append(c)
            i += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail(.invalidUTF8, "invalid UTF-8 in string") }
        return s
    }
}
