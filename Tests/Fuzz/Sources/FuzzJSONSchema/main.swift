import FuzzSupport
import RampartSanitizerCore

/// The sanitizer's JSON parser and JSON Schema validation of tool arguments, as
/// `Sanitizer.sanitize` / `checkToolCall` use them: a tool's `parameters` schema compiled with the
/// sanitizer's parser limits, then a model-written `arguments` document parsed, validated,
/// repaired (the `strip` action) and checked against the URL policy.
///
/// Input: `schema 0x00 arguments`. Without a 0x00 the whole input is parsed, used as a schema,
/// and as the arguments of a few fixed schemas.
enum Harness {
    static let config = SanitizerConfig()
    /// The parser `Sanitizer` builds from its config.
    static let parser = JSONParser(limits: JSONLimits(
        maxBytes: max(config.maxToolSchemaBytes, config.maxToolArgumentsBytes), maxDepth: config.maxJSONDepth))
    static let fixedSchemas: [JSONSchema] = [
        #"{"type":"object","properties":{"url":{"type":"string","format":"uri"},"n":{"type":"integer","minimum":0,"maximum":10}},"required":["url"],"additionalProperties":false}"#,
        #"{"type":"array","items":{"type":["string","number"],"maxLength":8,"pattern":"^[a-z]+$"},"maxItems":4,"uniqueItems":true}"#,
        #"{"anyOf":[{"type":"string","enum":["a","b"]},{"type":"object","patternProperties":{"^x":{"const":1}}}],"not":{"type":"null"}}"#,
    ].compactMap { try? JSONSchema(text: $0, parser: parser) }

    static func run(_ input: inout FuzzInput) {
        let bytes = input.rest()
        if let split = bytes.firstIndex(of: 0) {
            let schemaText = text(Array(bytes[..<split]))
            let argumentsText = text(Array(bytes[(split + 1)...]))
            let schema = try? JSONSchema(text: schemaText.isEmpty ? "{}" : schemaText, parser: parser)
            guard let arguments = parseChecked(argumentsText.isEmpty ? "{}" : argumentsText) else { return }
            if let schema { check(arguments, against: schema) }
            _ = config.urls.firstViolation(in: arguments)
        } else {
            _ = try? JSONParser().parse(bytes)  // the default limits
            guard let value = parseChecked(text(bytes)) else { return }
            if let schema = try? JSONSchema(value) { check(.object([:]), against: schema); check(value, against: schema) }
            for schema in fixedSchemas { check(value, against: schema) }
            _ = config.urls.firstViolation(in: value)
        }
    }

    /// Parses with the sanitizer's limits; a parsed value must survive serialize → parse unchanged.
    static func parseChecked(_ text: String) -> JSONValue? {
        guard let value = try? parser.parse(text) else { return nil }
        let serialized = value.serialized
        do {
            let again = try JSONParser(limits: JSONLimits(maxBytes: .max, maxDepth: parser.limits.maxDepth, maxValues: .max, maxStringBytes: .max))
                .parse(serialized)
            invariant(again == value, "serialize → parse changed the value: \(serialized.prefix(200))")
        } catch {
            fatalError("the parser refuses its own serialization (\(error)): \(serialized.prefix(200))")
        }
        return value
    }

    static func check(_ arguments: JSONValue, against schema: JSONSchema) {
        guard let violations = try? schema.validate(arguments) else { return }
        _ = schema.isValid(arguments)
        if !violations.isEmpty {
            let repaired = SchemaRepair.repair(arguments, schema: schema)
            _ = try? schema.validate(repaired)
            _ = repaired.serialized
        }
    }
}

fuzzMain { Harness.run(&$0) }
