import TOMLKit

// The schema: one key table per section, the list of sections, the cross-key rules.

extension RampartConfig {
    /// The top-level sections, in the order `render()` prints them.
    static var schema: [SectionBinding] {
        [
            .table("server", \.server, summary: ["Unix-socket transport and connection handling."]),
            .table("limits", \.limits, summary: ["Per-request limits, enforced before a backend sees a request."]),
            .table("backend", \.backend, summary: ["The inference backend."]),
            .table("logging", \.logging, summary: ["Log verbosity and format."]),
            .table(
                "plugin_trust", \.pluginTrust,
                summary: ["Which plugin signatures are trusted, and where verified plugin copies go."]),
            .table("chain", \.chain, summary: ["How the plugin chain handles streamed output."]),
            .table("audit", \.audit, summary: ["The security audit trail (JSON Lines, one record per event)."]),
            .arrayOfTables(
                "plugins", \.plugins,
                summary: ["Plugins, in chain order: one [[plugins]] table each (zero or more)."],
                example: RampartConfig.Plugin(
                    name: "keyword-guard", path: "plugins/keyword-guard", config: "forbidden,secret")),
        ]
    }

    /// Rules that involve more than one key.
    static var crossChecks: [CrossCheck] {
        [
            .notAbove("limits.default_max_tokens", \.limits.defaultMaxTokens, limit: "limits.max_tokens", \.limits.maxTokens),
            .notAbove("server.lz4_threshold", \.server.lz4Threshold, limit: "server.max_frame_size", \.server.maxFrameSize),
            .notAbove("limits.max_prompt_bytes", \.limits.maxPromptBytes, limit: "server.max_frame_size", \.server.maxFrameSize),
            CrossCheck(
                keyPaths: ["server.socket_mode", "server.socket_group"], reportAt: "server.socket_mode"
            ) { config, _ in
                guard config.server.socketMode == .ownerAndGroup, config.server.socketGroup == nil else { return nil }
                return CheckFailure(
                    kind: .conflict,
                    message: "\"0660\" lets a group connect, so server.socket_group must name that group")
            },
            CrossCheck(
                keyPaths: ["backend.model_path", "backend.kind"], reportAt: "backend.model_path"
            ) { config, _ in
                guard config.backend.kind != .builtin, config.backend.modelPath != nil else { return nil }
                return CheckFailure(
                    kind: .conflict,
                    message: "only applies to backend.kind = \"builtin\", "
                        + "but kind is \"\(config.backend.kind.rawValue)\"")
            },
            .uniquePluginNames,
            .enabledPluginsNeedTrust,
        ]
    }
}

extension CrossCheck {
    /// Every `[[plugins]]` name is used once; reported at each repetition.
    static var uniquePluginNames: CrossCheck {
        CrossCheck { config, context in
            var firstUse: [String: Int] = [:]
            var findings: [Finding] = []
            for (index, plugin) in config.plugins.enumerated() {
                let path = "plugins[\(index)].name"
                guard !context.hasFailed(path) else { continue }
                guard let earlier = firstUse[plugin.name] else {
                    firstUse[plugin.name] = index
                    continue
                }
                findings.append(
                    Finding(
                        keyPaths: [path, "plugins[\(earlier)].name"], reportAt: path,
                        failure: CheckFailure(
                            kind: .conflict,
                            message: "duplicate plugin name \(TOMLText.quoted(plugin.name)), "
                                + "already used by plugins[\(earlier)]")))
            }
            return findings
        }
    }

    /// An enabled plugin must have its signature checked: `trusted_keys` must not be empty unless
    /// `allow_unsigned` is set. Reported once, naming the first enabled plugin.
    static var enabledPluginsNeedTrust: CrossCheck {
        CrossCheck { config, context in
            let keysPath = "plugin_trust.trusted_keys"
            let unsignedPath = "plugin_trust.allow_unsigned"
            guard !context.hasFailed(keysPath), !context.hasFailed(unsignedPath),
                config.pluginTrust.trustedKeys.isEmpty, !config.pluginTrust.allowUnsigned,
                let index = config.plugins.indices.first(where: { index in
                    config.plugins[index].enabled && !context.hasFailed("plugins[\(index)].enabled")
                })
            else { return [] }
            let entry = "plugins[\(index)]"
            let plugin =
                context.hasFailed(entry + ".name")
                ? entry : "plugin \(TOMLText.quoted(config.plugins[index].name)) (\(entry))"
            let empty = context.explicit.contains(keysPath) ? "is empty" : "is empty (the default)"
            return [
                Finding(
                    keyPaths: [keysPath, unsignedPath, entry, entry + ".enabled"], reportAt: keysPath,
                    failure: CheckFailure(
                        kind: .conflict,
                        message: "\(empty) and \(unsignedPath) = \(context.describe(false, at: unsignedPath)), "
                            + "but \(plugin) is enabled: list the public key its signature is checked against, "
                            + "or set allow_unsigned = true (development only)"))
            ]
        }
    }
}

// MARK: - [server]

extension RampartConfig.Server: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            ConfigKey(
                name: "socket",
                doc: [
                    "Path of the Unix socket. A relative path resolves against this file's directory;",
                    "the resolved path must fit sun_path (\(RampartConfig.maxSocketPathBytes) bytes).",
                ],
                range: nil,
                decode: { value, section, path, context in
                    guard let string = context.string(value, at: path) else { return false }
                    if string.hasSuffix("/") {
                        context.report(
                            .invalidValue, at: path,
                            "must name a socket file, not a directory, got \(TOMLText.preview(string))")
                        return false
                    }
                    section.socket = string
                    return true
                },
                check: { section in
                    let bytes = section.socket.utf8.count
                    if bytes == 0 {
                        return CheckFailure(kind: .invalidValue, message: "must not be empty")
                    }
                    if bytes > RampartConfig.maxSocketPathBytes {
                        return CheckFailure(
                            kind: .invalidValue,
                            message: "path is \(bytes) bytes after resolution, over the Unix socket limit of "
                                + "\(RampartConfig.maxSocketPathBytes) (sun_path): \(TOMLText.preview(section.socket, limit: 160))")
                    }
                    return nil
                },
                render: { .value(TOMLText.quoted($0.socket)) }),
            ConfigKey(
                name: "socket_mode",
                doc: [
                    "Socket file permissions: \"0600\" (owner only) or \"0660\" (owner and socket_group).",
                ],
                range: nil,
                decode: { value, section, path, context in
                    let allowed = "\"0600\" or \"0660\""
                    guard value.type == .string, let string = value.string else {
                        let hint = value.type == .int ? " (write the mode as a quoted octal string, e.g. \"0600\")" : ""
                        context.wrongType(value, at: path, expected: "a string, \(allowed)", hint: hint)
                        return false
                    }
                    guard let mode = RampartConfig.SocketMode(octalString: string) else {
                        context.report(.invalidValue, at: path, "must be \(allowed), got \(TOMLText.preview(string))")
                        return false
                    }
                    section.socketMode = mode
                    return true
                },
                check: { _ in nil },
                render: { .value(TOMLText.quoted($0.socketMode.octalString)) }),
            ConfigKey(
                name: "socket_group",
                doc: [
                    "Group that owns the socket file: a group name or a numeric gid.",
                    "Unset: the server's own group. Required with socket_mode = \"0660\".",
                ],
                range: nil,
                decode: { value, section, path, context in
                    if value.type == .int, let gid = value.int {
                        guard let group = SocketGroupSyntax.gid(gid) else {
                            context.report(
                                .outOfRange, at: path,
                                "a numeric gid must be between 0 and \(SocketGroupSyntax.maxGid), got \(gid)")
                            return false
                        }
                        section.socketGroup = group
                        return true
                    }
                    guard value.type == .string, let string = value.string else {
                        context.wrongType(value, at: path, expected: "a group name (string) or a numeric gid (integer)")
                        return false
                    }
                    switch SocketGroupSyntax.parse(string) {
                    case .success(let group):
                        section.socketGroup = group
                        return true
                    case .failure(let failure):
                        context.report(failure.kind, at: path, failure.message)
                        return false
                    }
                },
                check: { section in
                    guard case .name(let name)? = section.socketGroup else { return nil }
                    if case .failure(let failure) = SocketGroupSyntax.parse(name) { return failure }
                    return nil
                },
                render: { section in
                    switch section.socketGroup {
                    case nil: .unset(example: "\"rampart\"")
                    case .name(let name)?: .value(TOMLText.quoted(name))
                    case .gid(let gid)?: .value(String(gid))
                    }
                }),
            .integer(
                "max_frame_size", \.maxFrameSize, range: 1024...67_108_864,
                doc: ["Largest frame payload accepted, in bytes (1024 ... 67108864; 4 MiB = 4194304)."]),
            .integer(
                "max_concurrent_streams", \.maxConcurrentStreams, range: 1...10_000,
                doc: ["Concurrent streams allowed per connection (1 ... 10000)."]),
            .integer(
                "read_timeout_ms", \.readTimeoutMs, range: 100...600_000,
                doc: ["A partial frame must complete within this many milliseconds (100 ... 600000)."]),
            .integer(
                "idle_timeout_ms", \.idleTimeoutMs, range: 1000...86_400_000,
                doc: ["A connection with no streams and no traffic is closed after this many ms (1000 ... 86400000)."]),
            .integer(
                "drain_timeout_ms", \.drainTimeoutMs, range: 0...3_600_000,
                doc: ["On shutdown, in-flight streams get this many ms to finish (0 ... 3600000)."]),
            .integer(
                "event_loop_threads", \.eventLoopThreads, range: 1...64,
                doc: ["Event-loop (I/O) threads (1 ... 64)."]),
            .integer(
                "worker_threads", \.workerThreads, range: 1...256,
                doc: ["Backend worker-pool threads (1 ... 256)."]),
            .boolean(
                "lz4", \.lz4,
                doc: ["Offer LZ4 message compression to clients."]),
            .integer(
                "lz4_threshold", \.lz4Threshold, range: 64...67_108_864,
                doc: ["Compress messages of at least this many bytes (64 ... max_frame_size)."]),
            .flushEvery(
                "flush_every", \.flushEvery,
                doc: [
                    "Answers per flush while answering the requests that arrived in one read:",
                    "\"auto\" (every 2 when the server may use two or more CPUs, else once per read),",
                    "0 (once per read) or a number of answers (1 ... 1024).",
                ]),
        ]
    }
}

/// Syntax of `server.socket_group`.
enum SocketGroupSyntax {
    /// The largest gid (`(gid_t)-1` is reserved).
    static let maxGid = 4_294_967_294

    static func gid(_ value: Int) -> RampartConfig.SocketGroup? {
        guard value >= 0, value <= maxGid, let gid = UInt32(exactly: value) else { return nil }
        return .gid(gid)
    }

    /// All digits: a gid; otherwise a POSIX-portable group name (letters, digits, `.`, `_`, `-`,
    /// not starting with `-`, at most 32 bytes, optionally ending in `$`).
    static func parse(_ string: String) -> Result<RampartConfig.SocketGroup, CheckFailure> {
        if string.isEmpty {
            return .failure(
                .init(kind: .invalidValue, message: "must not be empty (remove the key to keep the server's group)"))
        }
        if string.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard string.utf8.count <= 10, let value = Int(string), let group = gid(value) else {
                return .failure(
                    .init(kind: .outOfRange, message: "a numeric gid must be between 0 and \(maxGid), got \(string)"))
            }
            return .success(group)
        }
        var body = Substring(string)
        if body.hasSuffix("$") { body = body.dropLast() }
        let valid =
            !body.isEmpty && string.utf8.count <= 32 && !body.hasPrefix("-")
            && body.utf8.allSatisfy { byte in
                KeyPathFormat.isBareKeyByte(byte) || byte == UInt8(ascii: ".")
            }
        guard valid else {
            return .failure(
                .init(
                    kind: .invalidValue,
                    message: "must be a group name (letters, digits, '.', '_', '-'; at most 32 bytes) "
                        + "or a numeric gid, got \(TOMLText.preview(string))"))
        }
        return .success(.name(string))
    }
}

extension CheckFailure: Error {}

// MARK: - [limits]

extension RampartConfig.Limits: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            .integer(
                "max_tokens", \.maxTokens, range: 1...1_000_000,
                doc: ["Largest max_tokens a request may ask for (1 ... 1000000)."]),
            .integer(
                "default_max_tokens", \.defaultMaxTokens, range: 1...1_000_000,
                doc: ["max_tokens used when a request leaves it 0 (1 ... max_tokens)."]),
            .integer(
                "max_prompt_bytes", \.maxPromptBytes, range: 1...67_108_864,
                doc: ["Largest total UTF-8 size of prompt plus messages, in bytes (1 ... server.max_frame_size)."]),
            .integer(
                "max_messages", \.maxMessages, range: 1...100_000,
                doc: ["Largest number of chat messages in one request (1 ... 100000)."]),
        ]
    }
}

// MARK: - [backend]

extension RampartConfig.Backend: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            .choice(
                "kind", \.kind,
                doc: ["\"builtin\" (the bundled model) or \"null\" (echoes the prompt; for benchmarks)."]),
            ConfigKey(
                name: "model_path",
                doc: [
                    "Builtin model artifact directory; \"\" = the bundled model.",
                    "A relative path resolves against this file's directory. Only with kind = \"builtin\".",
                ],
                range: nil,
                decode: { value, section, path, context in
                    guard let string = context.string(value, at: path) else { return false }
                    section.modelPath = string.isEmpty ? nil : string
                    return true
                },
                check: { _ in nil },
                render: { .value(TOMLText.quoted($0.modelPath ?? "")) }),
        ]
    }
}

// MARK: - [logging]

extension RampartConfig.Logging: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            .choice(
                "level", \.level,
                doc: ["Minimum level logged: trace, debug, info, notice, warning, error or critical."]),
            .choice(
                "format", \.format,
                doc: ["\"text\" (human-readable lines) or \"json\" (one object per line)."]),
        ]
    }
}

// MARK: - [plugin_trust]

extension RampartConfig.PluginTrust: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            ConfigKey(
                name: "trusted_keys",
                doc: [
                    "PEM public keys (EC P-256/P-384) whose plugin signatures are trusted. A relative path",
                    "resolves against this file's directory; the files are read when the server starts.",
                ],
                range: nil,
                decode: { value, section, path, context in
                    guard value.type == .array, let array = value.array else {
                        var hint = ""
                        if value.type == .string, let string = value.string {
                            hint = " (write a list, even for one key: [\(TOMLText.preview(string))])"
                        }
                        context.wrongType(value, at: path, expected: "an array of strings (key file paths)", hint: hint)
                        return false
                    }
                    var keys: [String] = []
                    var valid = true
                    for index in 0..<array.count {
                        let entryPath = "\(path)[\(index)]"
                        guard let string = context.string(array[index], at: entryPath, expecting: "a key file path")
                        else {
                            valid = false
                            continue
                        }
                        if string.isEmpty {
                            context.report(.invalidValue, at: entryPath, "must not be empty (a key file path)")
                            valid = false
                        }
                        keys.append(string)
                    }
                    guard valid else { return false }
                    section.trustedKeys = keys
                    return true
                },
                check: { section in
                    guard let index = section.trustedKeys.firstIndex(where: \.isEmpty) else { return nil }
                    return CheckFailure(
                        kind: .invalidValue, message: "entry \(index) must not be empty (a key file path)")
                },
                render: { section in
                    .value("[" + section.trustedKeys.map(TOMLText.quoted).joined(separator: ", ") + "]")
                }),
            .boolean(
                "allow_unsigned", \.allowUnsigned,
                doc: [
                    "Development only: load plugins without a valid signature (logged loudly).",
                    "When false, enabled plugins need trusted_keys.",
                ]),
            .string(
                "cache_dir", \.cacheDir,
                doc: [
                    "Directory for verified, content-addressed copies of plugin libraries.",
                    "A relative path resolves against this file's directory.",
                ],
                check: { $0.isEmpty ? CheckFailure(kind: .invalidValue, message: "must not be empty") : nil }),
        ]
    }
}

// MARK: - [chain]

extension RampartConfig.Chain: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            .integer(
                "hold_back_bytes", \.holdBackBytes, range: 0...65_536,
                doc: [
                    "Bytes of streamed output held back so output plugins can stop a stream before",
                    "the client sees them (0 ... 65536; 0 = forward at once).",
                ])
        ]
    }
}

// MARK: - [audit]

extension RampartConfig.Audit: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            .string(
                "path", \.path,
                doc: [
                    "The audit log file (created 0600, appended to); \"\" = no audit trail.",
                    "A relative path resolves against this file's directory.",
                ]),
            .choice(
                "fsync", \.fsync,
                doc: ["\"interval\" (fsync at most once a second), \"always\" (every record) or \"never\"."]),
        ]
    }
}

// MARK: - [[plugins]]

extension RampartConfig.Plugin: ConfigSection {
    static var keys: [ConfigKey<Self>] {
        [
            ConfigKey.string(
                "name", \.name,
                doc: ["Required, unique: 1 to 64 of a-z, 0-9, '_', '-', starting with a letter or digit."],
                check: PluginNameSyntax.check
            ).required(),
            ConfigKey.string(
                "path", \.path,
                doc: [
                    "Required: the plugin directory (plugin.json, the library, model.sig).",
                    "A relative path resolves against this file's directory.",
                ],
                check: { $0.isEmpty ? CheckFailure(kind: .invalidValue, message: "must not be empty") : nil }
            ).required(),
            .stringOrTable(
                "config", \.config,
                doc: [
                    "Handed to the plugin's create() as bytes: a string as written, or a table",
                    "([plugins.config]) as its JSON text. \"\" = none.",
                ]),
            .choice(
                "failure_mode", \.failureMode,
                doc: ["When the plugin fails or times out: \"closed\" (refuse the request) or \"open\" (skip it)."]),
            .integer(
                "timeout_ms", \.timeoutMs, range: 1...60_000,
                doc: ["Longest a call into the plugin may take, in milliseconds (1 ... 60000)."]),
            .choice(
                "isolation", \.isolation,
                doc: ["\"inprocess\" (loaded into the sidecar) or \"process\" (a separate helper process)."]),
            .boolean(
                "enabled", \.enabled,
                doc: ["false keeps the entry but does not load the plugin."]),
        ]
    }
}

/// Syntax of `plugins[].name`: `[a-z0-9][a-z0-9_-]{0,63}`.
enum PluginNameSyntax {
    static let maxLength = 64

    static func check(_ name: String) -> CheckFailure? {
        if name.isEmpty { return CheckFailure(kind: .invalidValue, message: "must not be empty") }
        if isValid(name) { return nil }
        let bytes = name.utf8
        if bytes.count > maxLength, isValid(String(name.prefix(maxLength))) {
            return CheckFailure(
                kind: .invalidValue, message: "must be at most \(maxLength) characters, got \(bytes.count)")
        }
        var hint = ""
        let lowered = name.lowercased()
        if lowered != name, isValid(lowered) { hint = " (did you mean \(TOMLText.quoted(lowered))?)" }
        return CheckFailure(
            kind: .invalidValue,
            message: "must be 1 to \(maxLength) characters of a-z, 0-9, '_' and '-', starting with a letter or digit, "
                + "got \(TOMLText.preview(name))" + hint)
    }

    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, isLowerAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
