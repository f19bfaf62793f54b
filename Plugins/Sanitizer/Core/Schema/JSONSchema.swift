/// Why a schema cannot be used (refused when the tool definition is loaded or checked).
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "schema \(path.isEmpty ? "/" : path): \(message)" }
}

/// One way an instance does not match its schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the offending value in the instance.
    public var instancePath: String
    /// The keyword that failed (`type`, `required`, …).
    public var keyword: String
    public var message: String
    public var description: String { "\(instancePath.isEmpty ? "/" : instancePath): \(keyword): \(message)" }
}

/// Limits on validation work.
public struct SchemaLimits: Sendable, Equatable {
    /// Most schema/instance visits in one validation (bounds `$ref` loops and combinators).
    public var maxSteps: Int = 200_000
    /// Deepest recursion through subschemas and `$ref`.
    public var maxDepth: Int = 128
    /// Longest string a `pattern` is run against.
    public var maxPatternInputBytes: Int = 64 << 10
    /// Most violations reported.
    public var maxViolations: Int = 16
    public init() {}
}

/// A JSON Schema (draft 2020-12 subset) compiled for validation.
///
/// Supported assertion keywords: `type` (string or array), `enum`, `const`, `properties`,
/// `required`, `additionalProperties` (boolean or schema), `minProperties`, `maxProperties`,
/// `items` (schema), `prefixItems`, `minItems`, `maxItems`, `uniqueItems`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minLength`, `maxLength` (in code
/// points), `pattern` (compiled by Hyperscan: linear time, no backreferences or lookaround),
/// `anyOf`, `oneOf`, `allOf`, `not`, and `$ref` to `#`, `#/$defs/<name>` or
/// `#/definitions/<name>`. Boolean schemas (`true`/`false`) are supported. Annotations
/// (`title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`, `format`,
/// `deprecated`, `readOnly`, `writeOnly`) are accepted and ignored. Every other keyword is an
/// error: an unsupported assertion is refused rather than silently skipped (fail closed).
public final class JSONSchema: Sendable {
    /// The schema document.
    public let root: JSONValue
    let patterns: [String: PatternDatabase]
    public let limits: SchemaLimits

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "format",
        "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "$anchor",
    ]
    static let assertions: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties", "maxProperties",
        "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "anyOf", "oneOf", "allOf", "not", "$ref",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "integer", "string"]

    /// Compiles `schema`, checking every keyword, every `$ref` target and every `pattern`.
    public init(_ schema: JSONValue, limits: SchemaLimits = SchemaLimits()) throws(SchemaError) {
        root = schema
        self.limits = limits
        var patterns: [String: PatternDatabase] = [:]
        // Iterative walk over every subschema.
        var stack: [(JSONValue, String)] = [(schema, "")]
        var visited = 0
        while let (node, path) = stack.popLast() {
            visited += 1
            guard visited <= 10_000 else { throw SchemaError(path: path, message: "more than 10000 subschemas") }
            switch node {
            case .bool: continue
            case .object(let members):
                for (key, value) in members {
                    let here = path + "/" + key
                    if Self.annotations.contains(key) {
                        if key == "$defs" || key == "definitions" {
                            guard let defs = value.objectValue else { throw SchemaError(path: here, message: "must be an object") }
                            for (name, sub) in defs { stack.append((sub, here + "/" + name)) }
                        }
                        continue
                    }
                    guard Self.assertions.contains(key) else {
                        throw SchemaError(path: here, message: "unsupported keyword \(JSONValue.quote(key))")
                    }
                    switch key {
                    case "type":
                        let names: [JSONValue] = value.arrayValue ?? [value]
                        for name in names {
                            guard let n = name.stringValue, Self.typeNames.contains(n) else {
                                throw SchemaError(path: here, message: "unknown type \(name.serialized)")
                            }
                        }
                    case "properties":
                        guard let props = value.objectValue else { throw SchemaError(path: here, message: "must be an object") }
                        for (name, sub) in props { stack.append((sub, here + "/" + name)) }
                    case "additionalProperties", "items", "not":
                        stack.append((value, here))
                    case "prefixItems", "anyOf", "oneOf", "allOf":
                        guard let list = value.arrayValue, !list.isEmpty else {
                            throw SchemaError(path: here, message: "must be a non-empty array")
                        }
                        for (index, sub) in list.enumerated() { stack.append((sub, here + "/\(index)")) }
                    case "required":
                        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                            throw SchemaError(path: here, message: "must be an array of strings")
                        }
                    case "enum":
                        guard value.arrayValue != nil else { throw SchemaError(path: here, message: "must be an array") }
                    case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                        guard value.numberValue != nil else { throw SchemaError(path: here, message: "must be a number") }
                    case "multipleOf":
                        guard let n = value.numberValue, n > 0 else { throw SchemaError(path: here, message: "must be a number > 0") }
                    case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
                        guard let n = value.numberValue, n >= 0, n.rounded() == n else {
                            throw SchemaError(path: here, message: "must be a non-negative integer")
                        }
                    case "uniqueItems":
                        guard value.boolValue != nil else { throw SchemaError(path: here, message: "must be a boolean") }
                    case "pattern":
                        guard let source = value.stringValue else { throw SchemaError(path: here, message: "must be a string") }
                        if patterns[source] == nil {
                            do {
                                patterns[source] = try PatternDatabase([PatternSpec(source, id: 0, leftmostStart: false, singleMatch: true, dotAll: false)])
                            } catch {
                                throw SchemaError(path: here, message: "pattern \(JSONValue.quote(source)) is not supported: \(error.message)")
                            }
                        }
                    case "$ref":
                        guard let ref = value.stringValue else { throw SchemaError(path: here, message: "must be a string") }
                        guard Self.resolve(ref, in: schema) != nil else {
                            throw SchemaError(path: here, message: "unresolvable reference \(JSONValue.quote(ref)) (only #, #/$defs/… and #/definitions/…)")
                        }
                    default:
                        break
                    }
                }
            default:
                throw SchemaError(path: path, message: "a schema must be an object or a boolean")
            }
        }
        self.patterns = patterns
    }

    /// Parses and compiles a schema from JSON text.
    public convenience init(text: String, parser: JSONParser = JSONParser()) throws(SchemaError) {
        let value: JSONValue
        do {
            value = try parser.parse(text)
        } catch {
            throw SchemaError(path: "", message: "\(error)")
        }
        try self.init(value)
    }

    static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
        if ref == "#" { return root }
        for prefix in ["#/$defs/", "#/definitions/"] where ref.hasPrefix(prefix) {
            let name = String(ref.dropFirst(prefix.count)).replacingOccurrences("~1", "/").replacingOccurrences("~0", "~")
            return root[String(prefix.dropFirst(2).dropLast())]?[name]
        }
        return nil
    }

    /// Validates `instance`; returns the violations (empty = valid). Throws when the work limit
    /// is reached, which callers must treat as invalid.
    public func validate(_ instance: JSONValue) throws(SchemaError) -> [SchemaViolation] {
        var run = ValidationRun(schema: self)
        try run.check(instance, against: root, path: "", depth: 0)
        return run.violations
    }

    /// Whether `instance` is valid (a work-limit failure counts as invalid).
    public func isValid(_ instance: JSONValue) -> Bool {
        (try? validate(instance).isEmpty) ?? false
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

struct ValidationRun {
    let schema: JSONSchema
    var violations: [SchemaViolation] = []
    var steps = 0

    init(schema: JSONSchema) {
        self.schema = schema
    }

    mutating func report(_ path: String, _ keyword: String, _ message: String) {
        if violations.count < schema.limits.maxViolations {
            violations.append(SchemaViolation(instancePath: path, keyword: keyword, message: message))
        }
    }

    /// A sub-run that only answers valid/invalid (for anyOf/oneOf/not), sharing the step budget.
    mutating func passes(_ instance: JSONValue, _ sub: JSONValue, path: String, depth: Int) throws(SchemaError) -> Bool {
        var inner = ValidationRun(schema: schema)
        inner.steps = steps
        try inner.check(instance, against: sub, path: path, depth: depth)
        steps = inner.steps
        return inner.violations.isEmpty
    }

    mutating func check(_ instance: JSONValue, against node: JSONValue, path: String, depth: Int) throws(SchemaError) {
        steps += 1
        guard steps <= schema.limits.maxSteps else {
            throw SchemaError(path: path, message: "validation exceeded \(schema.limits.maxSteps) steps")
        }
        guard depth <= schema.limits.maxDepth else {
            throw SchemaError(path: path, message: "validation deeper than \(schema.limits.maxDepth) levels (recursive $ref?)")
        }
        guard case .object(let s) = node else {
            if node == .bool(false) { report(path, "false", "no value is allowed here") }
            return
        }
        if let ref = s["$ref"]?.stringValue, let target = JSONSchema.resolve(ref, in: schema.root) {
            try check(instance, against: target, path: path, depth: depth + 1)
        }
        if let type = s["type"] {
            let allowed = (type.arrayValue ?? [type]).compactMap(\.stringValue)
            let actual = instance.schemaType
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { report(path, "type", "expected \(allowed.joined(separator: " or ")), got \(actual)") }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(where: { Self.equal($0, instance) }) {
            report(path, "enum", "value is not one of the \(options.count) allowed values")
        }
        if let constant = s["const"], !Self.equal(constant, instance) {
            report(path, "const", "value differs from the constant")
        }
        switch instance {
        case .number(let n):
            if let m = s["minimum"]?.numberValue, n < m { report(path, "minimum", "\(JSONValue.format(n)) < \(JSONValue.format(m))") }
            if let m = s["maximum"]?.numberValue, n > m { report(path, "maximum", "\(JSONValue.format(n)) > \(JSONValue.format(m))") }
            if let m = s["exclusiveMinimum"]?.numberValue, n <= m { report(path, "exclusiveMinimum", "\(JSONValue.format(n)) <= \(JSONValue.format(m))") }
            if let m = s["exclusiveMaximum"]?.numberValue, n >= m { report(path, "exclusiveMaximum", "\(JSONValue.format(n)) >= \(JSONValue.format(m))") }
            if let m = s["multipleOf"]?.numberValue {
                let q = n / m
                if !(q.isFinite && abs(q - q.rounded()) < 1e-9) { report(path, "multipleOf", "not a multiple of \(JSONValue.format(m))") }
            }
        case .string(let text):
            let needsLength = s["minLength"] != nil || s["maxLength"] != nil
            let length = needsLength ? text.unicodeScalars.count : 0
            if let m = s["minLength"]?.numberValue, Double(length) < m { report(path, "minLength", "shorter than \(JSONValue.format(m))") }
            if let m = s["maxLength"]?.numberValue, Double(length) > m { report(path, "maxLength", "longer than \(JSONValue.format(m))") }
            if let source = s["pattern"]?.stringValue, let database = schema.patterns[source] {
                if text.utf8.count > schema.limits.maxPatternInputBytes {
                    report(path, "pattern", "string too long to match a pattern (\(text.utf8.count) bytes)")
                } else {
                    let matched: Bool
                    do { matched = try database.matches(text) } catch {
                        throw SchemaError(path: path, message: "pattern scan failed: \(error)")
                    }
                    if !matched { report(path, "pattern", "does not match \(JSONValue.quote(source))") }
                }
            }
        case .array(let elements):
            if let m = s["minItems"]?.numberValue, Double(elements.count) < m { report(path, "minItems", "fewer than \(JSONValue.format(m)) items") }
            if let m = s["maxItems"]?.numberValue, Double(elements.count) > m { report(path, "maxItems", "more than \(JSONValue.format(m)) items") }
            if s["uniqueItems"]?.boolValue == true, elements.count > 1 {
                steps += elements.count
                var seen = Set<String>()
                for e in elements where !seen.insert(e.serialized).inserted {
                    report(path, "uniqueItems", "duplicate items")
                    break
                }
            }
            let prefix = s["prefixItems"]?.arrayValue ?? []
            for (index, element) in elements.enumerated() {
                if index < prefix.count {
                    try check(element, against: prefix[index], path: path + "/\(index)", depth: depth + 1)
                } else if let items = s["items"] {
                    try check(element, against: items, path: path + "/\(index)", depth: depth + 1)
                }
            }
        case .object(let members):
            if let m = s["minProperties"]?.numberValue, Double(members.count) < m { report(path, "minProperties", "fewer than \(JSONValue.format(m)) properties") }
            if let m = s["maxProperties"]?.numberValue, Double(members.count) > m { report(path, "maxProperties", "more than \(JSONValue.format(m)) properties") }
            for name in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                report(path, "required", "missing property \(JSONValue.quote(name))")
            }
            let properties = s["properties"]?.objectValue ?? [:]
            for key in members.keys.sorted() {
                guard let value = members[key] else { continue }
                let here = path + "/" + key.replacingOccurrences("~", "~0").replacingOccurrences("/", "~1")
                if let sub = properties[key] {
                    try check(value, against: sub, path: here, depth: depth + 1)
                } else if let extra = s["additionalProperties"] {
                    if extra == .bool(false) {
                        report(here, "additionalProperties", "property \(JSONValue.quote(key)) is not allowed")
                    } else {
                        try check(value, against: extra, path: here, depth: depth + 1)
                    }
                }
            }
        default:
            break
        }
        if let all = s["allOf"]?.arrayValue {
            for sub in all { try check(instance, against: sub, path: path, depth: depth + 1) }
        }
        if let any = s["anyOf"]?.arrayValue {
            var ok = false
            for sub in any where try passes(instance, sub, path: path, depth: depth + 1) { ok = true; break }
            if !ok { report(path, "anyOf", "matches none of the \(any.count) alternatives") }
        }
        if let one = s["oneOf"]?.arrayValue {
            var count = 0
            for sub in one where try passes(instance, sub, path: path, depth: depth + 1) { count += 1 }
            if count != 1 { report(path, "oneOf", "matches \(count) of the alternatives instead of exactly one") }
        }
        if let not = s["not"], try passes(instance, not, path: path, depth: depth + 1) {
            report(path, "not", "matches a schema it must not match")
        }
    }

    /// JSON equality (numbers by value, objects by members).
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }
}
