/// A parsed JSON value (RFC 8259). Numbers keep their double value and whether they were written
/// as integers; objects refuse duplicate keys at parse time.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON type name used by JSON Schema's `type` keyword (`integer` for integral numbers).
    public var schemaType: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.rounded() == n && n.isFinite ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The object's members, if this is an object.
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The number, if this is one.
    public var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    /// The boolean, if this is one.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// Member lookup on objects (nil for other types or absent keys).
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// The value with `transform` applied to every string value (not to object keys), visited in
    /// order: array elements in sequence, object members in the dictionary's own iteration order.
    /// `transform` returns nil to keep a string; the result is nil when no string changed.
    /// Recursive, so bounded by the depth the parser accepts (64).
    public func replacingStrings(_ transform: (String) -> String?) -> JSONValue? {
        switch self {
        case .string(let text):
            return transform(text).map(JSONValue.string)
        case .array(let elements):
            var out = elements
            var changed = false
            for (index, element) in elements.enumerated() {
                if let replaced = element.replacingStrings(transform) {
                    out[index] = replaced
                    changed = true
                }
            }
            return changed ? .array(out) : nil
        case .object(let members):
            var out = members
            var changed = false
            for (key, member) in members {
                if let replaced = member.replacingStrings(transform) {
                    out[key] = replaced
                    changed = true
                }
            }
            return changed ? .object(out) : nil
        case .null, .bool, .number:
            return nil
        }
    }
}

extension JSONValue {
    /// Compact JSON text with sorted object keys (deterministic). Iterative: safe for any depth
    /// the parser accepted.
    public var serialized: String {
        var out = ""
        enum Work { case value(JSONValue), text(String) }
        var stack: [Work] = [.value(self)]
        while let item = stack.popLast() {
            switch item {
            case .text(let t): out += t
            case .value(let v):
                switch v {
                case .null: out += "null"
                case .bool(let b): out += b ? "true" : "false"
                case .number(let n): out += JSONValue.format(n)
                case .string(let s): out += JSONValue.quote(s)
                case .array(let a):
                    stack.append(.text("]"))
                    for (i, e) in a.enumerated().reversed() {
                        stack.append(.value(e))
                        if i > 0 { stack.append(.text(",")) }
                    }
                    stack.append(.text("["))
                case .object(let o):
                    stack.append(.text("}"))
                    let keys = o.keys.sorted()
                    for (i, k) in keys.enumerated().reversed() {
                        if let e = o[k] { stack.append(.value(e)) }
                        stack.append(.text(JSONValue.quote(k) + ":"))
                        if i > 0 { stack.append(.text(",")) }
                    }
                    stack.append(.text("{"))
                }
            }
        }
        return out
    }

    static func format(_ n: Double) -> String {
        if n.isFinite, n.rounded() == n, abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    /// A JSON string literal for `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
