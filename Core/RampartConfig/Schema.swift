import TOMLKit

// The table-driven validator.
//
// A section of the file is a struct conforming to `ConfigSection` with a static key table
// (`[ConfigKey<Self>]`). Each key knows how to decode its TOML value (type errors), how to check
// the decoded value (range errors, so checks also apply to configs built in code) and how to
// render it. `RampartConfig.schema` lists the sections; `RampartConfig.crossChecks` lists
// the rules that involve several keys.
//
// Adding a section = a struct + its key table + one line in `schema` (+ a stored property).
// A table is bound with `SectionBinding.table`, an array of tables (`[[plugins]]`) with
// `SectionBinding.arrayOfTables`; both share the key tables and `decodeKeys`. Rules whose key
// paths depend on the data (one per array entry) are `CrossCheck`s built with `findings:`.
// The loader does not change.

/// A section of the config file: one TOML table with a fixed set of keys.
protocol ConfigSection: Sendable, Equatable {
    /// The defaults.
    init()
    /// The keys, in the order `render()` prints them.
    static var keys: [ConfigKey<Self>] { get }
}

/// The outcome of checking a decoded value.
struct CheckFailure: Sendable, Equatable {
    var kind: ConfigError.Issue.Kind
    var message: String
}

/// How a key's current value is rendered.
enum RenderedValue {
    /// `key = literal`.
    case value(String)
    /// The key is unset; render `# key = example`.
    case unset(example: String)
}

/// One key of a section.
struct ConfigKey<Section> {
    /// The TOML key, e.g. `max_frame_size`.
    let name: String
    /// Comment lines printed above the key by `render()`.
    let doc: [String]
    /// The allowed range, for integer keys (documentation and tests).
    let range: ClosedRange<Int>?
    /// Converts the TOML value into the section; reports type and format errors and returns
    /// false when the value was not stored.
    let decode: (_ value: any TOMLValueConvertible, _ section: inout Section, _ path: String, _ context: inout DecodeContext) -> Bool
    /// Checks the stored value (ranges, allowed values).
    let check: (_ section: Section) -> CheckFailure?
    /// The TOML literal of the stored value.
    let render: (_ section: Section) -> RenderedValue
    /// Whether the key must be written. Checked where an entry of a `[[name]]` array (or a table)
    /// is present; a missing required key is a ``ConfigError/Issue/Kind/missingKey`` issue.
    var isRequired = false

    /// The same key, marked as required.
    func required() -> ConfigKey {
        var copy = self
        copy.isRequired = true
        return copy
    }
}

extension ConfigKey {
    /// An integer in `range`.
    static func integer(
        _ name: String, _ keyPath: WritableKeyPath<Section, Int>, range: ClosedRange<Int>, doc: [String]
    ) -> ConfigKey {
        ConfigKey(
            name: name, doc: doc, range: range,
            decode: { value, section, path, context in
                guard let int = context.integer(value, at: path) else { return false }
                section[keyPath: keyPath] = int
                return true
            },
            check: { section in
                let value = section[keyPath: keyPath]
                guard !range.contains(value) else { return nil }
                return CheckFailure(
                    kind: .outOfRange,
                    message: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            },
            render: { .value(String($0[keyPath: keyPath])) })
    }

    /// `true` or `false`.
    static func boolean(_ name: String, _ keyPath: WritableKeyPath<Section, Bool>, doc: [String]) -> ConfigKey {
        ConfigKey(
            name: name, doc: doc, range: nil,
            decode: { value, section, path, context in
                guard let bool = context.boolean(value, at: path) else { return false }
                section[keyPath: keyPath] = bool
                return true
            },
            check: { _ in nil },
            render: { .value($0[keyPath: keyPath] ? "true" : "false") })
    }

    /// A string, stored as written; `check` validates it (after path resolution, and also for
    /// configs built in code).
    static func string(
        _ name: String, _ keyPath: WritableKeyPath<Section, String>, doc: [String],
        check: @escaping (String) -> CheckFailure? = { _ in nil }
    ) -> ConfigKey {
        ConfigKey(
            name: name, doc: doc, range: nil,
            decode: { value, section, path, context in
                guard let string = context.string(value, at: path) else { return false }
                section[keyPath: keyPath] = string
                return true
            },
            check: { section in check(section[keyPath: keyPath]) },
            render: { .value(TOMLText.quoted($0[keyPath: keyPath])) })
    }

    /// A string as written, or a table stored as its JSON text (structured plugin configs).
    static func stringOrTable(_ name: String, _ keyPath: WritableKeyPath<Section, String>, doc: [String]) -> ConfigKey {
        ConfigKey(
            name: name, doc: doc, range: nil,
            decode: { value, section, path, context in
                if let table = value.table {
                    section[keyPath: keyPath] = table.convert(to: .json)
                    return true
                }
                guard let string = context.string(value, at: path, expecting: "or a table") else { return false }
                section[keyPath: keyPath] = string
                return true
            },
            check: { _ in nil },
            render: { .value(TOMLText.quoted($0[keyPath: keyPath])) })
    }

    /// `"auto"` or a number of answers (`server.flush_every`).
    static func flushEvery(
        _ name: String, _ keyPath: WritableKeyPath<Section, RampartConfig.FlushEvery>, doc: [String]
    ) -> ConfigKey {
        let range = RampartConfig.FlushEvery.range
        return ConfigKey(
            name: name, doc: doc, range: range,
            decode: { value, section, path, context in
                if value.type == .string, let string = value.string {
                    guard string == "auto" else {
                        context.report(
                            .invalidValue, at: path,
                            "must be \"auto\" or a number of answers (\(range.lowerBound) ... \(range.upperBound)), got \(TOMLText.preview(string))"
                                + Suggest.didYouMean(string, among: ["auto"], quote: "\""))
                        return false
                    }
                    section[keyPath: keyPath] = .auto
                    return true
                }
                guard let int = context.integer(value, at: path) else { return false }
                section[keyPath: keyPath] = .answers(int)
                return true
            },
            check: { section in
                guard case .answers(let value) = section[keyPath: keyPath], !range.contains(value) else { return nil }
                return CheckFailure(
                    kind: .outOfRange,
                    message: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            },
            render: { .value($0[keyPath: keyPath].description) })
    }

    /// One of the raw values of a string enum.
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ keyPath: WritableKeyPath<Section, Choice>, doc: [String]
    ) -> ConfigKey where Choice.RawValue == String {
        ConfigKey(
            name: name, doc: doc, range: nil,
            decode: { value, section, path, context in
                let names = Choice.allCases.map(\.rawValue)
                guard let string = context.string(value, at: path, expecting: "one of " + Suggest.list(names))
                else { return false }
                guard let choice = Choice(rawValue: string) else {
                    context.report(
                        .invalidValue, at: path,
                        "must be one of \(Suggest.list(names)), got \(TOMLText.preview(string))"
                            + Suggest.didYouMean(string, among: names, quote: "\""))
                    return false
                }
                section[keyPath: keyPath] = choice
                return true
            },
            check: { _ in nil },
            render: { .value(TOMLText.quoted($0[keyPath: keyPath].rawValue)) })
    }
}

// MARK: - Decoding context

/// State of one validation pass: issues found, keys present, keys that failed.
struct DecodeContext {
    /// Where keys are in the text.
    let index: SourceIndex
    /// Issues so far, in discovery order.
    private(set) var issues: [ConfigError.Issue] = []
    /// Key paths written in the file.
    var explicit: Set<String> = []
    /// Key paths whose value was rejected (their section holds the default instead); rules
    /// involving them are skipped to avoid follow-on errors.
    var failed: Set<String> = []

    init(index: SourceIndex) {
        self.index = index
    }

    mutating func report(
        _ kind: ConfigError.Issue.Kind, at path: String?, _ message: String, line: Int? = nil, column: Int? = nil
    ) {
        let line = line ?? path.flatMap { index.line(for: $0) }
        issues.append(ConfigError.Issue(kind: kind, keyPath: path, line: line, column: column, message: message))
        if let path { failed.insert(path) }
    }

    /// The issues, in file order; issues without a line keep their order at the end.
    var sortedIssues: [ConfigError.Issue] {
        issues.enumerated().sorted { lhs, rhs in
            let left = lhs.element.line ?? Int.max
            let right = rhs.element.line ?? Int.max
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// Whether the value at `path`, or a table or array entry containing it, was rejected.
    func hasFailed(_ path: String) -> Bool {
        var current: String? = path
        while let candidate = current {
            if failed.contains(candidate) { return true }
            current = KeyPathFormat.parent(of: candidate)
        }
        return false
    }

    /// `N`, or `N (the default)` when `path` is not in the file, for messages about several keys.
    func describe(_ value: some CustomStringConvertible, at path: String) -> String {
        explicit.contains(path) ? "\(value)" : "\(value) (the default)"
    }

    // MARK: Typed access

    mutating func wrongType(_ value: any TOMLValueConvertible, at path: String, expected: String, hint: String = "") {
        report(.wrongType, at: path, "expected \(expected), got \(Self.describe(value))" + hint)
    }

    mutating func integer(_ value: any TOMLValueConvertible, at path: String) -> Int? {
        if value.type == .int, let int = value.int { return int }
        var hint = ""
        if let string = value.string, Int(string.trimmingSpaces) != nil {
            hint = " (write the number without quotes)"
        } else if let double = value.double, double.rounded() == double, abs(double) < 1e15 {
            hint = " (write it without a decimal point or exponent)"
        }
        wrongType(value, at: path, expected: "an integer", hint: hint)
        return nil
    }

    mutating func boolean(_ value: any TOMLValueConvertible, at path: String) -> Bool? {
        if value.type == .bool, let bool = value.bool { return bool }
        var hint = ""
        if let string = value.string, string == "true" || string == "false" {
            hint = " (write \(string) without quotes)"
        }
        wrongType(value, at: path, expected: "a boolean (true or false)", hint: hint)
        return nil
    }

    mutating func string(_ value: any TOMLValueConvertible, at path: String, expecting what: String = "a string")
        -> String?
    {
        if value.type == .string, let string = value.string { return string }
        wrongType(value, at: path, expected: what == "a string" ? what : "a string, \(what)")
        return nil
    }

    /// `integer 5`, `string "x"`, `table`, … for "got …" messages.
    static func describe(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return "string " + TOMLText.preview(value.string ?? "")
        case .int: return "integer " + (value.int.map { String($0) } ?? "")
        case .double: return "floating-point number " + (value.double.map { String($0) } ?? "")
        case .bool: return "boolean " + (value.bool.map { $0 ? "true" : "false" } ?? "")
        case .table: return "a table"
        case .array: return "an array"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }
}

extension String {
    var trimmingSpaces: Substring {
        var slice = self[...]
        while let first = slice.first, first == " " { slice = slice.dropFirst() }
        while let last = slice.last, last == " " { slice = slice.dropLast() }
        return slice
    }
}

// MARK: - Sections of the root table

/// How one top-level name of the file maps onto `RampartConfig`.
struct SectionBinding {
    /// The top-level TOML name, e.g. `server`.
    let name: String
    /// How the section's keys are named in suggestions and docs: `server` for `server.socket`,
    /// `plugins[]` for `plugins[].name` (an entry of any index).
    let pathPrefix: String
    /// Comment lines printed above the section by `render()`.
    let summary: [String]
    /// The keys the section accepts (for "did you mean" suggestions).
    let keyNames: [String]
    /// Decodes the section's TOML value into the config.
    let decode: (_ value: any TOMLValueConvertible, _ config: inout RampartConfig, _ context: inout DecodeContext) -> Void
    /// Runs the per-key checks.
    let check: (_ config: RampartConfig, _ context: inout DecodeContext) -> Void
    /// The TOML text of the section.
    let render: (_ config: RampartConfig) -> String

    /// A `[name]` table decoded into the section at `keyPath`.
    static func table<Section: ConfigSection>(
        _ name: String, _ keyPath: WritableKeyPath<RampartConfig, Section>, summary: [String]
    ) -> SectionBinding {
        let keys = Section.keys
        let sectionPath = KeyPathFormat.component(name)
        return SectionBinding(
            name: name, pathPrefix: sectionPath, summary: summary, keyNames: keys.map(\.name),
            decode: { value, config, context in
                guard value.type == .table, let table = value.table else {
                    context.wrongType(value, at: sectionPath, expected: "a table ([\(sectionPath)])")
                    return
                }
                var section = config[keyPath: keyPath]
                decodeKeys(
                    table, into: &section, at: sectionPath, section: name, header: "[\(sectionPath)]",
                    context: &context)
                config[keyPath: keyPath] = section
            },
            check: { config, context in
                checkKeys(config[keyPath: keyPath], at: sectionPath, context: &context)
            },
            render: { config in
                var lines = summary.map { "# " + $0 }
                lines.append("[\(sectionPath)]")
                lines.append(contentsOf: renderKeys(config[keyPath: keyPath], withDocs: true))
                return lines.joined(separator: "\n") + "\n"
            })
    }

    /// A `[[name]]` array of tables decoded into the array at `keyPath`, one element per entry,
    /// in file order. Key paths name entries by index: `plugins[1].timeout_ms`.
    ///
    /// Every entry, even a broken one, yields an element so that indices match the file;
    /// `render()` prints `example`, commented out, when the array is empty.
    static func arrayOfTables<Element: ConfigSection>(
        _ name: String, _ keyPath: WritableKeyPath<RampartConfig, [Element]>, summary: [String], example: Element
    ) -> SectionBinding {
        let keys = Element.keys
        let basePath = KeyPathFormat.component(name)
        let header = "[[\(basePath)]]"
        return SectionBinding(
            name: name, pathPrefix: basePath + "[]", summary: summary, keyNames: keys.map(\.name),
            decode: { value, config, context in
                guard value.type == .array, let array = value.array else {
                    context.wrongType(value, at: basePath, expected: "an array of tables (\(header) entries)")
                    return
                }
                var elements: [Element] = []
                for index in 0..<array.count {
                    let elementPath = "\(basePath)[\(index)]"
                    let item = array[index]
                    var element = Element()
                    if item.type == .table, let table = item.table {
                        decodeKeys(
                            table, into: &element, at: elementPath, section: name, header: header,
                            context: &context)
                    } else {
                        context.wrongType(item, at: elementPath, expected: "a table (one \(header) entry)")
                    }
                    elements.append(element)
                }
                config[keyPath: keyPath] = elements
            },
            check: { config, context in
                for (index, element) in config[keyPath: keyPath].enumerated() {
                    checkKeys(element, at: "\(basePath)[\(index)]", context: &context)
                }
            },
            render: { config in
                var lines = summary.map { "# " + $0 }
                let elements = config[keyPath: keyPath]
                if elements.isEmpty {
                    lines.append("# None. An entry looks like this:")
                    lines.append("# " + header)
                    lines.append(contentsOf: renderKeys(example, withDocs: false).map { "# " + $0 })
                }
                for (index, element) in elements.enumerated() {
                    if index > 0 { lines.append("") }
                    lines.append(header)
                    // The keys are explained once, on the first entry.
                    lines.append(contentsOf: renderKeys(element, withDocs: index == 0))
                }
                return lines.joined(separator: "\n") + "\n"
            })
    }

    /// Decodes the keys of one TOML table (the `[name]` section, or the `[[name]]` entry whose
    /// path is `sectionPath`, e.g. `plugins[1]`) into `section`: unknown keys are reported with a
    /// suggestion, absent required keys as missing. `header` names the table in messages.
    static func decodeKeys<Section: ConfigSection>(
        _ table: TOMLTable, into section: inout Section, at sectionPath: String, section name: String, header: String,
        context: inout DecodeContext
    ) {
        let keys = Section.keys
        var seen = Set<String>()
        for keyName in table.keys {
            let path = KeyPathFormat.child(sectionPath, keyName)
            guard let child = table[keyName] else {
                // TOMLKit bridges keys as C strings; a key holding NUL cannot be looked up.
                context.report(.unknownKey, at: path, "invalid key \(TOMLText.preview(keyName)) in \(header)")
                continue
            }
            guard let key = keys.first(where: { $0.name == keyName }) else {
                context.report(
                    .unknownKey, at: path,
                    "unknown key '\(path)'" + Suggest.forUnknownKey(keyName, inSection: name, at: sectionPath))
                continue
            }
            seen.insert(keyName)
            context.explicit.insert(path)
            if !key.decode(child, &section, path, &context) {
                context.failed.insert(path)
            }
        }
        for key in keys where key.isRequired && !seen.contains(key.name) {
            context.report(.missingKey, at: KeyPathFormat.child(sectionPath, key.name), "required")
        }
    }

    /// Runs the per-key checks of one table whose keys live under `sectionPath`.
    static func checkKeys<Section: ConfigSection>(
        _ section: Section, at sectionPath: String, context: inout DecodeContext
    ) {
        for key in Section.keys {
            let path = KeyPathFormat.child(sectionPath, key.name)
            guard !context.hasFailed(path), let failure = key.check(section) else { continue }
            context.report(failure.kind, at: path, failure.message)
        }
    }

    /// `key = value` lines (`# key = example` for unset keys), each after its doc comment when
    /// `withDocs`.
    static func renderKeys<Section: ConfigSection>(_ section: Section, withDocs: Bool) -> [String] {
        var lines: [String] = []
        for key in Section.keys {
            if withDocs { lines.append(contentsOf: key.doc.map { "# " + $0 }) }
            switch key.render(section) {
            case .value(let literal): lines.append("\(KeyPathFormat.component(key.name)) = \(literal)")
            case .unset(let example): lines.append("# \(KeyPathFormat.component(key.name)) = \(example)")
            }
        }
        return lines
    }
}

/// A rule involving several keys.
struct CrossCheck {
    /// One violation of a rule.
    struct Finding {
        /// Every key the violation involves; it is dropped when one of them failed to decode, and
        /// its line is that of `reportAt`, else of the first of these written in the file.
        var keyPaths: [String]
        /// The key the issue is reported at.
        var reportAt: String
        /// The problem.
        var failure: CheckFailure
    }

    /// Returns the violations, if any. Must not read values whose key failed to decode (see
    /// ``DecodeContext/hasFailed(_:)``).
    let findings: (_ config: RampartConfig, _ context: DecodeContext) -> [Finding]

    /// A rule over fixed keys with at most one violation; skipped when one of `keyPaths` failed.
    init(
        keyPaths: [String], reportAt: String,
        check: @escaping (_ config: RampartConfig, _ context: DecodeContext) -> CheckFailure?
    ) {
        findings = { config, context in
            guard !keyPaths.contains(where: context.failed.contains), let failure = check(config, context) else {
                return []
            }
            return [Finding(keyPaths: keyPaths, reportAt: reportAt, failure: failure)]
        }
    }

    /// A rule whose key paths depend on the data (e.g. one per `[[plugins]]` entry).
    init(findings: @escaping (_ config: RampartConfig, _ context: DecodeContext) -> [Finding]) {
        self.findings = findings
    }
}

extension CrossCheck {
    /// `path <= limitPath`, reported at `path`.
    static func notAbove(
        _ path: String, _ value: KeyPath<RampartConfig, Int>, limit limitPath: String, _ limit: KeyPath<RampartConfig, Int>
    ) -> CrossCheck {
        CrossCheck(keyPaths: [path, limitPath], reportAt: path) { config, context in
            let current = config[keyPath: value]
            let maximum = config[keyPath: limit]
            guard current > maximum else { return nil }
            return CheckFailure(
                kind: .conflict,
                message: "must be at most \(limitPath) = \(context.describe(maximum, at: limitPath)), "
                    + "got \(context.describe(current, at: path))")
        }
    }
}

// MARK: - Suggestions

enum Suggest {
    /// `"a", "b" or "c"`.
    static func list(_ names: [String]) -> String {
        let quoted = names.map { "\"\($0)\"" }
        guard quoted.count > 1, let last = quoted.last else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + last
    }

    /// ` (did you mean 'x'?)` or empty.
    static func didYouMean(_ word: String, among candidates: [String], quote: String = "'") -> String {
        guard let best = closest(to: word, among: candidates) else { return "" }
        return " (did you mean \(quote)\(best)\(quote)?)"
    }

    /// Suggestion for an unknown key in `[section]` (or in the `[[section]]` entry at
    /// `sectionPath`, e.g. `plugins[1]`): a close key of the same section, else the same key in
    /// another section.
    static func forUnknownKey(_ key: String, inSection section: String, at sectionPath: String? = nil) -> String {
        let schema = RampartConfig.schema
        if let own = schema.first(where: { $0.name == section }), let best = closest(to: key, among: own.keyNames) {
            return " (did you mean '\(KeyPathFormat.child(sectionPath ?? own.pathPrefix, best))'?)"
        }
        if let other = schema.first(where: { $0.name != section && $0.keyNames.contains(key) }) {
            return " (did you mean '\(KeyPathFormat.child(other.pathPrefix, key))'?)"
        }
        return ""
    }

    /// Suggestion for an unknown top-level name: a close section, else a section holding that key.
    static func forUnknownTopLevel(_ name: String) -> String {
        let schema = RampartConfig.schema
        if let best = closest(to: name, among: schema.map(\.name)) {
            return " (did you mean '\(KeyPathFormat.component(best))'?)"
        }
        let holders = schema.filter { $0.keyNames.contains(name) }
        if let holder = holders.first {
            return " (did you mean '\(KeyPathFormat.child(holder.pathPrefix, name))'?)"
        }
        for section in schema {
            if let best = closest(to: name, among: section.keyNames) {
                return " (did you mean '\(KeyPathFormat.child(section.pathPrefix, best))'?)"
            }
        }
        return ""
    }

    /// The candidate closest to `word` by edit distance, if close enough to be a likely typo, or
    /// if `word` (4 characters or more) is its prefix, or its last `_`-separated part(s)
    /// (`path` → `model_path`, `mode` → `failure_mode`).
    static func closest(to word: String, among candidates: [String]) -> String? {
        guard !word.isEmpty, word.count <= 64 else { return nil }
        let lowered = word.lowercased()
        if let exact = candidates.first(where: { $0.lowercased() == lowered }) { return exact }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            let allowed = max(1, min(3, (candidate.count + 2) / 3))
            let candidateLowered = candidate.lowercased()
            let isPart =
                word.count >= 4
                && (candidateLowered.hasPrefix(lowered) || lowered.hasPrefix(candidateLowered)
                    || candidateLowered.hasSuffix("_" + lowered))
            guard distance <= allowed || isPart else { continue }
            if best == nil || distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance (with adjacent transpositions counted as one edit).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
