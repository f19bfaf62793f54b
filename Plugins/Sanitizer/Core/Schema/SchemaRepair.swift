/// Conservative repair of a tool call's arguments against their schema, used when the config says
/// `repair` instead of `deny`: properties that `additionalProperties: false` forbids are dropped,
/// and scalars written as strings are converted when the schema asks for a number, an integer or
/// a boolean (`"5"` → `5`, `"true"` → `true`). Nothing else is invented: missing required
/// properties, enum or pattern mismatches stay invalid, and the caller re-validates the result.
public enum SchemaRepair {
    /// The repaired instance (or `instance` itself when nothing applied).
    public static func repair(_ instance: JSONValue, schema: JSONSchema) -> JSONValue {
        repair(instance, node: schema.root, root: schema.root, depth: 0)
    }

    static func repair(_ instance: JSONValue, node: JSONValue, root: JSONValue, depth: Int) -> JSONValue {
        guard depth < 64, case .object(let s) = node else { return instance }
        if let ref = s["$ref"]?.stringValue, let target = JSONSchema.resolve(ref, in: root) {
            return repair(instance, node: target, root: root, depth: depth + 1)
        }
        let types = (s["type"].map { $0.arrayValue ?? [$0] } ?? []).compactMap(\.stringValue)
        switch instance {
        case .string(let text) where !types.isEmpty && !types.contains("string"):
            let trimmed = text.trimmingSpaces
            if types.contains("integer"), let n = Int64(trimmed) { return .number(Double(n)) }
            if types.contains("number"), let n = Double(trimmed), n.isFinite { return .number(n) }
            if types.contains("boolean"), trimmed == "true" || trimmed == "false" { return .bool(trimmed == "true") }
            return instance
        case .object(var members):
            let properties = s["properties"]?.objectValue ?? [:]
            for (key, value) in members {
                if let sub = properties[key] {
                    members[key] = repair(value, node: sub, root: root, depth: depth + 1)
                } else if s["additionalProperties"] == .bool(false) {
                    members[key] = nil
                } else if let extra = s["additionalProperties"] {
                    members[key] = repair(value, node: extra, root: root, depth: depth + 1)
                }
            }
            return .object(members)
        case .array(let elements):
            let prefix = s["prefixItems"]?.arrayValue ?? []
            return .array(elements.enumerated().map { index, element in
                if index < prefix.count { return repair(element, node: prefix[index], root: root, depth: depth + 1) }
                if let items = s["items"] { return repair(element, node: items, root: root, depth: depth + 1) }
                return element
            })
        default:
            return instance
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars
        while let f = scalars.first, f == " " || f == "\t" || f == "\n" || f == "\r" { scalars.removeFirst() }
        while let l = scalars.last, l == " " || l == "\t" || l == "\n" || l == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
