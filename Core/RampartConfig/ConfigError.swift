/// Everything wrong with a configuration file, found in one pass.
///
/// Its ``description`` has one line per issue, in file order, e.g.
///
/// ```text
/// rampart.toml:3: unknown key 'server.sockt' (did you mean 'server.socket'?)
/// rampart.toml:7: server.max_frame_size: must be between 1024 and 67108864, got 0
/// rampart.toml:12: unknown key 'plugins[1].timout_ms' (did you mean 'plugins[1].timeout_ms'?)
/// rampart.toml:15: plugins[2].path: required
/// ```
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// One problem in a configuration file.
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// What kind of problem this is.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// The file could not be read, or is not UTF-8 text.
            case unreadable
            /// The file is not valid TOML.
            case syntax
            /// A table or key that the schema does not define.
            case unknownKey
            /// A required key is absent (e.g. `path` in a `[[plugins]]` entry).
            case missingKey
            /// A value of the wrong TOML type (e.g. a string where an integer is expected).
            case wrongType
            /// An integer outside its allowed range.
            case outOfRange
            /// A value of the right type that is not allowed (e.g. an unknown enum name).
            case invalidValue
            /// Keys that are valid alone but not together (e.g. `default_max_tokens > max_tokens`).
            case conflict
        }

        /// What kind of problem this is.
        public var kind: Kind
        /// The dotted key path, e.g. `server.max_frame_size`; `nil` for file-level problems.
        public var keyPath: String?
        /// The 1-based line in the file, when known.
        public var line: Int?
        /// The 1-based column, when known (syntax errors).
        public var column: Int?
        /// The operator-facing explanation. For ``Kind/unknownKey``, ``Kind/syntax`` and
        /// ``Kind/unreadable`` it is self-contained; otherwise it follows the key path.
        public var message: String

        /// Creates an issue.
        public init(kind: Kind, keyPath: String?, line: Int? = nil, column: Int? = nil, message: String) {
            self.kind = kind
            self.keyPath = keyPath
            self.line = line
            self.column = column
            self.message = message
        }

        /// The issue without the file name: `7: server.max_frame_size: must be between …`.
        public var description: String {
            var text = ""
            if let line {
                text += "\(line):"
                if let column { text += "\(column):" }
                text += " "
            }
            switch kind {
            case .unknownKey, .syntax, .unreadable:
                text += message
            case .missingKey, .wrongType, .outOfRange, .invalidValue, .conflict:
                if let keyPath { text += keyPath + ": " }
                text += message
            }
            return text
        }

        /// The issue as one line of compiler-style output: `rampart.toml:7: server.max_frame_size: …`.
        public func formatted(source: String) -> String {
            let body = description
            if line != nil { return source + ":" + body }
            return source + ": " + body
        }
    }

    /// The file name (or other label) the issues refer to, e.g. `rampart.toml`.
    public var source: String
    /// The issues, in file order (issues without a line last).
    public var issues: [Issue]

    /// Creates an error for `source`.
    public init(source: String, issues: [Issue]) {
        self.source = source
        self.issues = issues
    }

    /// One line per issue, prefixed with ``source``.
    public var description: String {
        issues.map { $0.formatted(source: source) }.joined(separator: "\n")
    }

    /// The issues about `keyPath`.
    public func issues(at keyPath: String) -> [Issue] {
        issues.filter { $0.keyPath == keyPath }
    }
}
