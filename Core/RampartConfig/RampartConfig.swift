/// The validated contents of Rampart's configuration file (schema v1).
///
/// Obtain one with ``ConfigLoader/load(path:)`` or ``ConfigLoader/parse(_:baseDirectory:source:)``
/// (strictly validated, paths resolved), with ``RampartConfig/dev(runDirectory:)`` for `--dev`
/// mode, or build one in code and check it with ``RampartConfig/validate()``.
///
/// Every key of the file is optional (except `name` and `path` inside a `[[plugins]]` entry);
/// ``init()`` holds the documented defaults. Relative paths (`server.socket`,
/// `backend.model_path`, `plugin_trust.trusted_keys`, `plugin_trust.cache_dir`, `plugins[].path`)
/// are resolved by the loader against the config file's directory, so a loaded config only ever
/// holds the paths the server should use as they are.
public struct RampartConfig: Sendable, Equatable {
    /// `[server]`: the Unix-socket transport and connection handling.
    public var server: Server
    /// `[limits]`: per-request size limits.
    public var limits: Limits
    /// `[backend]`: which inference backend serves requests.
    public var backend: Backend
    /// `[logging]`: log verbosity and format.
    public var logging: Logging
    /// `[plugin_trust]`: which plugin signatures are trusted and where verified copies go.
    public var pluginTrust: PluginTrust
    /// `[chain]`: how the plugin chain handles streamed output.
    public var chain: Chain
    /// `[[plugins]]`: the plugins, in chain order (empty by default).
    public var plugins: [Plugin]
    /// `[audit]`: the security audit trail.
    public var audit: Audit = Audit()

    /// A configuration with every key at its default (paths are still relative).
    public init(
        server: Server = Server(), limits: Limits = Limits(), backend: Backend = Backend(),
        logging: Logging = Logging(), pluginTrust: PluginTrust = PluginTrust(), chain: Chain = Chain(),
        plugins: [Plugin] = []
    ) {
        self.server = server
        self.limits = limits
        self.backend = backend
        self.logging = logging
        self.pluginTrust = pluginTrust
        self.chain = chain
        self.plugins = plugins
    }

    /// The configuration an empty config file in `baseDirectory` produces: all defaults, with the
    /// default paths (`run/rampart.sock`, `run/plugin-cache`) resolved against `baseDirectory`.
    public static func defaults(baseDirectory: String) -> RampartConfig {
        var config = RampartConfig()
        config.resolvePaths(against: baseDirectory)
        return config
    }

    /// The `--dev` configuration: every default, the socket at `<runDirectory>/rampart.sock`,
    /// the plugin cache at `<runDirectory>/plugin-cache`, the builtin backend with its bundled
    /// model, no plugins and no unsigned plugins (`allow_unsigned = false`).
    ///
    /// No file is read. Call ``validate()`` if `runDirectory` comes from the user (a long
    /// directory can push the socket path over the `sun_path` limit).
    public static func dev(runDirectory: String) -> RampartConfig {
        var config = RampartConfig()
        let directory = runDirectory.isEmpty ? "." : runDirectory
        config.server.socket = ConfigPath.normalize(ConfigPath.join(directory, "rampart.sock"))
        config.backend = Backend(kind: .builtin, modelPath: nil)
        config.pluginTrust = PluginTrust(
            trustedKeys: [], allowUnsigned: false,
            cacheDir: ConfigPath.normalize(ConfigPath.join(directory, "plugin-cache")))
        config.plugins = []
        return config
    }

    /// The largest socket path, in bytes, that fits `sockaddr_un.sun_path` with its terminating NUL
    /// (107 on Linux, 103 on Darwin).
    public static var maxSocketPathBytes: Int {
        #if os(Linux) || os(Android)
            107
        #else
            103
        #endif
    }

    /// The default socket path, relative to the config file's directory.
    public static let defaultSocketPath = "run/rampart.sock"

    /// The default plugin cache directory, relative to the config file's directory.
    public static let defaultPluginCacheDirectory = "run/plugin-cache"
}

// MARK: - [server]

extension RampartConfig {
    /// `[server]`: the Unix-socket transport and connection handling.
    public struct Server: Sendable, Equatable {
        /// Path of the Unix socket (`socket`). Loaded configs hold the resolved path.
        public var socket: String = RampartConfig.defaultSocketPath
        /// Permissions of the socket file (`socket_mode`).
        public var socketMode: SocketMode = .ownerOnly
        /// Group that owns the socket file (`socket_group`); `nil` keeps the server's group.
        public var socketGroup: SocketGroup?
        /// Largest frame payload accepted, in bytes (`max_frame_size`).
        public var maxFrameSize: Int = 4 * 1024 * 1024
        /// Concurrent streams allowed per connection (`max_concurrent_streams`).
        public var maxConcurrentStreams: Int = 100
        /// A partial frame must complete within this many milliseconds (`read_timeout_ms`).
        public var readTimeoutMs: Int = 10_000
        /// A connection without streams or traffic is closed after this many milliseconds (`idle_timeout_ms`).
        public var idleTimeoutMs: Int = 300_000
        /// Graceful-drain limit at shutdown, in milliseconds (`drain_timeout_ms`).
        public var drainTimeoutMs: Int = 30_000
        /// Event-loop threads (`event_loop_threads`).
        public var eventLoopThreads: Int = 1
        /// Backend worker-pool threads (`worker_threads`).
        public var workerThreads: Int = 2
        /// Whether LZ4 compression is offered to clients (`lz4`).
        public var lz4: Bool = true
        /// Messages of at least this many bytes are compressed (`lz4_threshold`).
        public var lz4Threshold: Int = 1024
        /// Answers per flush while answering the requests of one read (`flush_every`).
        public var flushEvery: FlushEvery = .auto

        /// The defaults.
        public init() {}

        /// ``readTimeoutMs`` as a `Duration`.
        public var readTimeout: Duration { .milliseconds(readTimeoutMs) }
        /// ``idleTimeoutMs`` as a `Duration`.
        public var idleTimeout: Duration { .milliseconds(idleTimeoutMs) }
        /// ``drainTimeoutMs`` as a `Duration`.
        public var drainTimeout: Duration { .milliseconds(drainTimeoutMs) }
    }

    /// `server.flush_every`: how often answers to the requests of one read are flushed.
    public enum FlushEvery: Sendable, Hashable, CustomStringConvertible {
        /// `"auto"`: the server decides from the CPUs it may use (every 2 answers on two or
        /// more, once per read on one).
        case auto
        /// A number of answers; 0 flushes once, when the read is done.
        case answers(Int)

        /// The allowed numbers.
        public static let range = 0...1024

        public var description: String {
            switch self {
            case .auto: "\"auto\""
            case .answers(let n): String(n)
            }
        }
    }

    /// Permissions of the socket file. Only the two safe modes are allowed.
    public enum SocketMode: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `"0600"`: only the server's user may connect.
        case ownerOnly = 0o600
        /// `"0660"`: the server's user and members of ``Server/socketGroup`` may connect.
        case ownerAndGroup = 0o660

        /// The permission bits, e.g. `0o600`, ready for `chmod`.
        public var permissions: UInt16 { rawValue }

        /// The four-digit octal spelling used in the config file, e.g. `"0600"`.
        public var octalString: String {
            let digits = String(rawValue, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }

        /// Parses the config-file spelling (`"0600"` or `"0660"`).
        public init?(octalString: String) {
            guard let mode = Self.allCases.first(where: { $0.octalString == octalString }) else { return nil }
            self = mode
        }

        /// Same as ``octalString``.
        public var description: String { octalString }
    }

    /// The group that owns the socket file: a name looked up at start, or a numeric gid.
    public enum SocketGroup: Sendable, Hashable, CustomStringConvertible {
        /// A group name, e.g. `rampart`.
        case name(String)
        /// A numeric group id.
        case gid(UInt32)

        /// The name, or the gid in decimal.
        public var description: String {
            switch self {
            case .name(let name): name
            case .gid(let gid): String(gid)
            }
        }
    }
}

// MARK: - [limits]

extension RampartConfig {
    /// `[limits]`: per-request size limits enforced before a backend sees a request.
    public struct Limits: Sendable, Equatable {
        /// Largest `max_tokens` a request may ask for (`max_tokens`).
        public var maxTokens: Int = 2048
        /// `max_tokens` used when a request leaves it 0 (`default_max_tokens`).
        public var defaultMaxTokens: Int = 128
        /// Largest total UTF-8 size of prompt plus messages, in bytes (`max_prompt_bytes`).
        public var maxPromptBytes: Int = 1024 * 1024
        /// Largest number of chat messages in a request (`max_messages`).
        public var maxMessages: Int = 256

        /// The defaults.
        public init() {}
    }
}

// MARK: - [backend]

extension RampartConfig {
    /// `[backend]`: which inference backend serves requests.
    public struct Backend: Sendable, Equatable {
        /// The kind of backend.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// The bundled builtin model (or the artifact at ``Backend/modelPath``).
            case builtin
            /// Echoes the prompt back; measures Rampart's own overhead in benchmarks.
            case null
        }

        /// The backend kind (`kind`).
        public var kind: Kind = .builtin
        /// Builtin model artifact directory (`model_path`); `nil` means the bundled model.
        /// Loaded configs hold the resolved path.
        public var modelPath: String?

        /// The builtin backend with its bundled model.
        public init() {}

        /// A backend of `kind`, with an optional model artifact directory.
        public init(kind: Kind, modelPath: String? = nil) {
            self.kind = kind
            self.modelPath = modelPath
        }
    }
}

// MARK: - [logging]

extension RampartConfig {
    /// `[logging]`: log verbosity and format.
    public struct Logging: Sendable, Equatable {
        /// Log levels, least to most severe (the names match swift-log's `Logger.Level`).
        public enum Level: String, Sendable, Hashable, CaseIterable {
            /// Everything, including per-frame detail.
            case trace
            /// Diagnostics for developers.
            case debug
            /// Normal operation (the default).
            case info
            /// Normal but significant events.
            case notice
            /// Something unexpected that Rampart handled.
            case warning
            /// A failed operation.
            case error
            /// Rampart cannot continue.
            case critical
        }

        /// Log line formats.
        public enum Format: String, Sendable, Hashable, CaseIterable {
            /// Human-readable lines.
            case text
            /// One JSON object per line.
            case json
        }

        /// The minimum level logged (`level`).
        public var level: Level = .info
        /// The line format (`format`).
        public var format: Format = .text

        /// The defaults.
        public init() {}
    }
}

// MARK: - [plugin_trust]

extension RampartConfig {
    /// `[plugin_trust]`: which plugin signatures are trusted and where verified copies go.
    ///
    /// The loader checks the shape of these values only; whether the key files exist and hold
    /// EC P-256/P-384 public keys is checked by the server when it starts.
    public struct PluginTrust: Sendable, Equatable {
        /// PEM public-key files whose plugin signatures are trusted (`trusted_keys`).
        /// Loaded configs hold the resolved paths.
        public var trustedKeys: [String] = []
        /// Load plugins without a valid signature (`allow_unsigned`); for development only, and
        /// logged loudly.
        public var allowUnsigned: Bool = false
        /// Directory for the verified, content-addressed copies of plugin libraries
        /// (`cache_dir`). Loaded configs hold the resolved path.
        public var cacheDir: String = RampartConfig.defaultPluginCacheDirectory

        /// The defaults: no trusted keys, signatures required, `run/plugin-cache`.
        public init() {}

        /// Trust settings with the given values.
        public init(
            trustedKeys: [String], allowUnsigned: Bool = false,
            cacheDir: String = RampartConfig.defaultPluginCacheDirectory
        ) {
            self.trustedKeys = trustedKeys
            self.allowUnsigned = allowUnsigned
            self.cacheDir = cacheDir
        }
    }
}

// MARK: - [chain]

extension RampartConfig {
    /// `[audit]`: where security events (authentication, key and token operations, reloads,
    /// denials) are recorded.
    public struct Audit: Sendable, Equatable {
        /// When records are forced to disk.
        public enum Fsync: String, Sendable, Hashable, CaseIterable {
            case always, interval, never
        }
        /// The JSON Lines file (`path`); "" disables the audit trail. Relative paths resolve
        /// against the config file's directory.
        public var path: String = ""
        /// `fsync`: "interval" (default: at most once per second), "always" or "never".
        public var fsync: Fsync = .interval

        /// The defaults (no audit trail).
        public init() {}

        /// An audit trail at `path`.
        public init(path: String, fsync: Fsync = .interval) {
            self.path = path
            self.fsync = fsync
        }
    }

    /// `[chain]`: how the plugin chain handles streamed output.
    public struct Chain: Sendable, Equatable {
        /// Bytes of streamed output held back so that output plugins can stop a stream before
        /// the client sees them (`hold_back_bytes`); 0 forwards output at once.
        public var holdBackBytes: Int = 256

        /// The defaults.
        public init() {}

        /// A chain holding back `holdBackBytes` bytes of streamed output.
        public init(holdBackBytes: Int) {
            self.holdBackBytes = holdBackBytes
        }
    }
}

// MARK: - [[plugins]]

extension RampartConfig {
    /// One `[[plugins]]` entry: a plugin of the chain.
    public struct Plugin: Sendable, Equatable {
        /// What happens to a request when the plugin fails (an error status, a timeout, or a crash
        /// of its helper process).
        public enum FailureMode: String, Sendable, Hashable, CaseIterable {
            /// The request is refused (the default): a broken guard never lets traffic through.
            case closed
            /// The plugin is skipped and the request goes on.
            case open
        }

        /// Where the plugin runs.
        public enum Isolation: String, Sendable, Hashable, CaseIterable {
            /// Loaded into the sidecar's own process (the default; fastest).
            case inprocess
            /// Run in a separate helper process, so a crash cannot take the sidecar down.
            case process
        }

        /// The plugin's name (`name`): unique, `[a-z0-9][a-z0-9_-]{0,63}`. Used in logs and metrics.
        public var name: String
        /// The plugin directory (`path`), holding `plugin.json`, the library and `model.sig`.
        /// Loaded configs hold the resolved path.
        public var path: String
        /// The configuration string handed to the plugin's `create()` (`config`).
        public var config: String = ""
        /// What a plugin failure does to the request (`failure_mode`).
        public var failureMode: FailureMode = .closed
        /// How long one call into the plugin may take, in milliseconds (`timeout_ms`).
        public var timeoutMs: Int = 100
        /// Where the plugin runs (`isolation`).
        public var isolation: Isolation = .inprocess
        /// Whether the plugin is loaded (`enabled`); a disabled entry is kept but skipped.
        public var enabled: Bool = true

        /// A plugin entry; every setting but `name` and `path` has its default.
        public init(
            name: String, path: String, config: String = "", failureMode: FailureMode = .closed,
            timeoutMs: Int = 100, isolation: Isolation = .inprocess, enabled: Bool = true
        ) {
            self.name = name
            self.path = path
            self.config = config
            self.failureMode = failureMode
            self.timeoutMs = timeoutMs
            self.isolation = isolation
            self.enabled = enabled
        }

        /// An entry without name and path (what the loader fills in; invalid until both are set).
        init() {
            self.init(name: "", path: "")
        }

        /// ``config`` as the bytes handed to the plugin's `create()` (UTF-8, no terminator).
        public var configBytes: [UInt8] { Array(config.utf8) }

        /// ``timeoutMs`` as a `Duration`.
        public var timeout: Duration { .milliseconds(timeoutMs) }
    }
}

// MARK: - Paths

extension RampartConfig {
    /// Resolves the relative paths (`server.socket`, `backend.model_path`,
    /// `plugin_trust.trusted_keys`, `plugin_trust.cache_dir`, `plugins[].path`) against `directory`.
    mutating func resolvePaths(against directory: String) {
        server.socket = ConfigPath.resolve(server.socket, against: directory)
        if let modelPath = backend.modelPath {
            backend.modelPath = ConfigPath.resolve(modelPath, against: directory)
        }
        pluginTrust.trustedKeys = pluginTrust.trustedKeys.map { ConfigPath.resolve($0, against: directory) }
        pluginTrust.cacheDir = ConfigPath.resolve(pluginTrust.cacheDir, against: directory)
        for index in plugins.indices {
            plugins[index].path = ConfigPath.resolve(plugins[index].path, against: directory)
        }
        audit.path = ConfigPath.resolve(audit.path, against: directory)
    }
}

/// Small, Foundation-free path helpers.
enum ConfigPath {
    /// `path` unchanged when absolute or empty, else `directory/path`, normalized.
    static func resolve(_ path: String, against directory: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/") else { return path }
        return normalize(join(directory, path))
    }

    static func join(_ directory: String, _ path: String) -> String {
        if directory.isEmpty { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Removes empty and `.` components. `..` is kept: it is resolved by the kernel, which knows
    /// about symlinks.
    static func normalize(_ path: String) -> String {
        guard !path.isEmpty else { return path }
        let absolute = path.hasPrefix("/")
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The directory part of `path`: `"."` when it has none.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }
}
