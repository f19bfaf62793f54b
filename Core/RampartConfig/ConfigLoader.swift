import TOMLKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads and strictly validates Rampart's TOML configuration file.
///
/// Validation reports every problem of the file in one ``ConfigError``: TOML syntax errors (with
/// line and column), unknown tables and keys (with a "did you mean" suggestion when one is close),
/// values of the wrong type, out-of-range values, and rules that involve several keys. Key paths
/// and, where known, line numbers are part of every message.
public enum ConfigLoader {
    /// Config files larger than this are refused.
    public static let maxFileBytes = 1 << 20

    /// Reads, parses and validates the file at `path`.
    ///
    /// Relative paths inside the file resolve against the file's directory (made absolute with
    /// the current directory when `path` is relative). Messages name the file as `path`.
    ///
    /// - Throws: ``ConfigError`` listing every problem found.
    public static func load(path: String) throws -> RampartConfig {
        let bytes: [UInt8]
        switch FileReader.read(path, limit: maxFileBytes) {
        case .success(let read): bytes = read
        case .failure(let failure):
            throw ConfigError(
                source: path, issues: [ConfigError.Issue(kind: .unreadable, keyPath: nil, message: failure.message)])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (line, column) = firstInvalidUTF8(in: bytes)
            throw ConfigError(
                source: path,
                issues: [
                    ConfigError.Issue(
                        kind: .unreadable, keyPath: nil, line: line, column: column,
                        message: "not valid UTF-8 text (TOML files must be UTF-8)")
                ])
        }
        var directory = ConfigPath.directory(of: path)
        if !directory.hasPrefix("/"), let cwd = FileReader.currentDirectory() {
            directory = ConfigPath.join(cwd, directory)
        }
        return try parse(text, baseDirectory: ConfigPath.normalize(directory), source: path)
    }

    /// Parses and validates TOML text.
    ///
    /// - Parameters:
    ///   - toml: The file's contents.
    ///   - baseDirectory: The directory relative paths resolve against (normally the file's).
    ///   - source: How messages name the file, e.g. `rampart.toml`.
    /// - Throws: ``ConfigError`` listing every problem found.
    public static func parse(_ toml: String, baseDirectory: String, source: String) throws -> RampartConfig {
        // TOMLKit hands the text to toml++ as a C string: a NUL would silently end the document.
        if let nul = toml.utf8.firstIndex(of: 0) {
            let offset = toml.utf8.distance(from: toml.utf8.startIndex, to: nul)
            let (line, column) = position(ofByte: offset, in: Array(toml.utf8))
            throw ConfigError(
                source: source,
                issues: [
                    ConfigError.Issue(
                        kind: .syntax, keyPath: nil, line: line, column: column,
                        message: "TOML syntax error: NUL character (U+0000) is not allowed")
                ])
        }

        // toml++ asserts on a few malformed shapes instead of reporting them: catch those first.
        let bytes = Array(toml.utf8)
        if let finding = TOMLPrecheck.check(bytes) {
            let (line, column) = position(ofByte: finding.offset, in: bytes)
            throw ConfigError(
                source: source,
                issues: [
                    ConfigError.Issue(
                        kind: .syntax, keyPath: nil, line: line, column: column,
                        message: "TOML syntax error: \(finding.message)")
                ])
        }

        let root: TOMLTable
        do {
            root = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            let column = error.source.begin.column
            throw ConfigError(
                source: source,
                issues: [
                    ConfigError.Issue(
                        kind: .syntax, keyPath: nil, line: line > 0 ? line : nil, column: column > 0 ? column : nil,
                        message: "TOML syntax error: \(error.description)")
                ])
        } catch {
            throw ConfigError(
                source: source,
                issues: [ConfigError.Issue(kind: .syntax, keyPath: nil, message: "TOML syntax error: \(error)")])
        }

        let index = SourceIndex(toml)
        var context = DecodeContext(index: index)
        for nul in index.nulEscapes {
            context.report(
                .syntax, at: nil, "TOML syntax error: strings may not contain NUL (\\u0000)", line: nul.line,
                column: nul.column)
        }

        var config = RampartConfig()
        decode(root, into: &config, context: &context)
        config.resolvePaths(against: baseDirectory)
        check(config, context: &context)

        if !context.issues.isEmpty {
            throw ConfigError(source: source, issues: context.sortedIssues)
        }
        return config
    }

    // MARK: - Passes

    /// Decodes every top-level name of the document into `config`.
    static func decode(_ root: TOMLTable, into config: inout RampartConfig, context: inout DecodeContext) {
        let schema = RampartConfig.schema
        for name in root.keys {
            let path = KeyPathFormat.component(name)
            guard let value = root[name] else {
                context.report(.unknownKey, at: path, "invalid key \(TOMLText.preview(name))")
                continue
            }
            if let binding = schema.first(where: { $0.name == name }) {
                binding.decode(value, &config, &context)
            } else {
                context.report(
                    .unknownKey, at: path,
                    "unknown \(describeTopLevel(value)) '\(path)'" + Suggest.forUnknownTopLevel(name))
            }
        }
    }

    /// `table`, `array of tables` or `key`, for "unknown …" messages.
    static func describeTopLevel(_ value: any TOMLValueConvertible) -> String {
        if value.type == .table { return "table" }
        if value.type == .array, let array = value.array, array.count > 0,
            (0..<array.count).allSatisfy({ array[$0].type == .table })
        {
            return "array of tables"
        }
        return "key"
    }

    /// Runs the per-key checks, then the cross-key rules whose keys all decoded.
    static func check(_ config: RampartConfig, context: inout DecodeContext) {
        for binding in RampartConfig.schema {
            binding.check(config, &context)
        }
        for rule in RampartConfig.crossChecks {
            for finding in rule.findings(config, context) {
                guard !finding.keyPaths.contains(where: context.failed.contains) else { continue }
                let index = context.index
                let line =
                    index.exactLine(for: finding.reportAt)
                    ?? finding.keyPaths.lazy.compactMap { index.exactLine(for: $0) }.first
                    ?? index.line(for: finding.reportAt)
                context.report(finding.failure.kind, at: finding.reportAt, finding.failure.message, line: line)
            }
        }
    }

    // MARK: - Positions

    static func position(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    static func firstInvalidUTF8(in bytes: [UInt8]) -> (line: Int, column: Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return position(ofByte: offset, in: bytes)
            case .error: return position(ofByte: offset, in: bytes)
            }
        }
    }
}

extension RampartConfig {
    /// Checks a configuration built in code against the same ranges and rules as the loader.
    ///
    /// - Parameter source: How messages name the configuration.
    /// - Throws: ``ConfigError`` listing every problem found (without line numbers).
    public func validate(source: String = "<config>") throws {
        var context = DecodeContext(index: SourceIndex())
        for binding in Self.schema {
            for key in binding.keyNames {
                context.explicit.insert(KeyPathFormat.child(KeyPathFormat.component(binding.name), key))
            }
        }
        ConfigLoader.check(self, context: &context)
        if !context.issues.isEmpty {
            throw ConfigError(source: source, issues: context.sortedIssues)
        }
    }
}

/// Reads small files with POSIX calls and precise error messages.
enum FileReader {
    struct Failure: Error {
        var message: String
    }

    static func read(_ path: String, limit: Int) -> Result<[UInt8], Failure> {
        if path.isEmpty { return .failure(Failure(message: "cannot read the config file: empty path")) }
        if path.utf8.contains(0) {
            return .failure(Failure(message: "cannot read the config file: the path contains NUL"))
        }
        guard let file = fopen(path, "rb") else {
            return .failure(Failure(message: "cannot open the config file: \(errorString(errno))"))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                fread(buffer.baseAddress, 1, buffer.count, file)
            }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if bytes.count > limit {
                return .failure(Failure(message: "config file is larger than \(limit) bytes"))
            }
            if count < chunk.count {
                if ferror(file) != 0 {
                    return .failure(Failure(message: "cannot read the config file: \(errorString(errno))"))
                }
                break
            }
        }
        return .success(bytes)
    }

    static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let ok = buffer.withUnsafeMutableBufferPointer { pointer -> Bool in
            getcwd(pointer.baseAddress, pointer.count) != nil
        }
        guard ok else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func errorString(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }
}
