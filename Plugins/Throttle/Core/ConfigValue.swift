import Foundation
import RampartConfig
import TOMLKit

/// A parsed configuration document: the plugin accepts JSON (text starting with `{`) or TOML,
/// and both become this tree before the strict, path-naming validation in ``ThrottleConfig``.
public indirect enum ConfigValue: Sendable, Equatable {
    case integer(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)
    case array([ConfigValue])
    /// A table, with its keys in document order (JSON objects: sorted, as Foundation loses order).
    case table([(String, ConfigValue)])

    public static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.table(let a), .table(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A short description for "expected …, got …" messages.
    var kind: String {
        switch self {
        case .integer(let v): "integer \(v)"
        case .double(let v): "number \(v)"
        case .string(let v): "string \"\(v.prefix(40))\""
        case .bool(let v): "boolean \(v)"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// Parses config bytes: empty → an empty table; `{…}` → JSON; anything else → TOML.
    public static func parse(_ bytes: [UInt8]) throws(ThrottleConfigError) -> ConfigValue {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ThrottleConfigError(path: "", "config is not valid UTF-8")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return .table([]) }
        if trimmed.hasPrefix("{") { return try parseJSON(Data(trimmed.utf8)) }
        return try parseTOML(trimmed)
    }

    static func parseJSON(_ data: Data) throws(ThrottleConfigError) -> ConfigValue {
        do {
            return try JSONDecoder().decode(JSONNode.self, from: data).value
        } catch let error as ThrottleConfigError {
            throw error
        } catch {
            throw ThrottleConfigError(path: "", "config is not valid JSON: \(error)")
        }
    }

    static func parseTOML(_ text: String) throws(ThrottleConfigError) -> ConfigValue {
        // toml++ asserts on a few malformed shapes instead of reporting them: the sidecar's config
        // loader's lexical precheck refuses those first (found by fuzzing, docs/FUZZING.md).
        if let finding = TOMLPrecheck.check(Array(text.utf8)) {
            throw ThrottleConfigError(
                path: "", "config is neither JSON (starting with '{') nor valid TOML: \(finding.message) (at byte \(finding.offset))")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw ThrottleConfigError(path: "", "config is neither JSON (starting with '{') nor valid TOML: \(error)")
        }
        return try fromTOML(table, path: "")
    }

    private static func fromTOML(_ value: any TOMLValueConvertible, path: String) throws(ThrottleConfigError) -> ConfigValue {
        switch value.type {
        case .int: return .integer(Int64(value.int ?? 0))
        case .double: return .double(value.double ?? 0)
        case .string: return .string(value.string ?? "")
        case .bool: return .bool(value.bool ?? false)
        case .array:
            var values: [ConfigValue] = []
            for (index, element) in (value.array ?? TOMLArray()).enumerated() {
                values.append(try fromTOML(element, path: "\(path)[\(index)]"))
            }
            return .array(values)
        case .table:
            var entries: [(String, ConfigValue)] = []
            for (key, element) in value.table ?? TOMLTable() {
                entries.append((key, try fromTOML(element, path: join(path, key))))
            }
            return .table(entries)
        case .date, .time, .dateTime:
            throw ThrottleConfigError(path: path, "dates and times are not used in the throttle config")
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// A configuration the throttle refuses, naming the offending key (e.g. `limits.key.requests.rate`).
public struct ThrottleConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The dotted path of the key at fault ("" = the document).
    public let path: String
    /// What is wrong with it.
    public let reason: String

    public init(path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? "throttle config: \(reason)" : "throttle config: \(path): \(reason)" }
}

/// Reads one table strictly: every key must be consumed, unknown keys are errors.
struct TableReader {
    let path: String
    private let entries: [(String, ConfigValue)]
    private var used: Set<String> = []

    init(_ value: ConfigValue, path: String) throws(ThrottleConfigError) {
        guard case .table(let entries) = value else {
            throw ThrottleConfigError(path: path, "expected a table, got \(value.kind)")
        }
        self.path = path
        self.entries = entries
    }

    func at(_ key: String) -> String { ConfigValue.join(path, key) }

    mutating func value(_ key: String) -> ConfigValue? {
        guard let entry = entries.first(where: { $0.0 == key }) else { return nil }
        used.insert(key)
        return entry.1
    }

    var keys: [String] { entries.map(\.0) }

    /// A positive integer (> 0) or `nil` when absent.
    mutating func positive(_ key: String) throws(ThrottleConfigError) -> Int64? {
        guard let int = try integer(key) else { return nil }
        guard int > 0 else { throw ThrottleConfigError(path: at(key), "must be greater than 0, got \(int)") }
        return int
    }

    /// A non-negative integer (≥ 0) or `nil` when absent.
    mutating func nonNegative(_ key: String) throws(ThrottleConfigError) -> Int64? {
        guard let int = try integer(key) else { return nil }
        guard int >= 0 else { throw ThrottleConfigError(path: at(key), "must not be negative, got \(int)") }
        return int
    }

    mutating func integer(_ key: String) throws(ThrottleConfigError) -> Int64? {
        guard let value = value(key) else { return nil }
        switch value {
        case .integer(let int): return int
        default: throw ThrottleConfigError(path: at(key), "expected an integer, got \(value.kind)")
        }
    }

    /// A number in `range` (integers are accepted too).
    mutating func fraction(_ key: String, in range: ClosedRange<Double>) throws(ThrottleConfigError) -> Double? {
        guard let value = value(key) else { return nil }
        let number: Double
        switch value {
        case .integer(let int): number = Double(int)
        case .double(let double): number = double
        default: throw ThrottleConfigError(path: at(key), "expected a number, got \(value.kind)")
        }
        guard number.isFinite, range.contains(number) else {
            throw ThrottleConfigError(path: at(key), "must be in \(range.lowerBound) ... \(range.upperBound), got \(number)")
        }
        return number
    }

    mutating func bool(_ key: String) throws(ThrottleConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let bool) = value else {
            throw ThrottleConfigError(path: at(key), "expected true or false, got \(value.kind)")
        }
        return bool
    }

    mutating func string(_ key: String) throws(ThrottleConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value else {
            throw ThrottleConfigError(path: at(key), "expected a string, got \(value.kind)")
        }
        return string
    }

    /// One of `choices`.
    mutating func choice(_ key: String, _ choices: [String]) throws(ThrottleConfigError) -> String? {
        guard let string = try string(key) else { return nil }
        guard choices.contains(string) else {
            throw ThrottleConfigError(path: at(key), "must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(string)\"")
        }
        return string
    }

    /// Refuses keys nobody asked for.
    func finish() throws(ThrottleConfigError) {
        if let unknown = entries.first(where: { !used.contains($0.0) }) {
            throw ThrottleConfigError(path: at(unknown.0), "unknown key")
        }
    }
}

/// JSON → ``ConfigValue`` through `Decodable`, which keeps booleans, integers and fractions apart.
private struct JSONNode: Decodable {
    let value: ConfigValue

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var entries: [(String, ConfigValue)] = []
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                entries.append((key.stringValue, try object.decode(JSONNode.self, forKey: key).value))
            }
            value = .table(entries)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var values: [ConfigValue] = []
            while !list.isAtEnd { values.append(try list.decode(JSONNode.self).value) }
            value = .array(values)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            let path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
            throw ThrottleConfigError(path: path, "null is not allowed; delete the key to get its default")
        }
        if let bool = try? single.decode(Bool.self) {
            value = .bool(bool)
        } else if let int = try? single.decode(Int64.self) {
            value = .integer(int)
        } else if let double = try? single.decode(Double.self) {
            value = .double(double)
        } else {
            value = .string(try single.decode(String.self))
        }
    }
}
