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
        ]
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
