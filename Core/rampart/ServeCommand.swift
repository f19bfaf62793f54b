import ArgumentParser
import Foundation
import Logging
import RampartAudit
import RampartBuiltinModel
import RampartChain
import RampartConfig
import RampartCore
import RampartPluginHost
import RampartServer

/// `rampart serve`: runs the sidecar until SIGTERM/SIGINT, then drains gracefully.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sidecar.",
        discussion: """
            With --dev, no config file is needed: the socket goes to <run-dir>/rampart.sock and the \
            embedded model serves. Otherwise --config names a TOML file (docs/CONFIG.md); unknown \
            keys and bad values are refused with precise errors.
            """)

    @Option(name: .long, help: "Path of the TOML config file.")
    var config: String?

    @Flag(name: .long, help: "Development mode: embedded defaults, no config file.")
    var dev = false

    @Option(name: .long, help: "Run directory for --dev (default: ./run).")
    var runDir = "run"

    @Option(name: .long, help: "Override server.socket.")
    var socket: String?

    @Option(name: .long, help: "Override backend.kind (builtin | null).")
    var backend: String?

    @Option(name: .long, help: "Override logging.level.")
    var logLevel: String?

    func run() async throws {
        var settings = try loadConfig()
        if let socket { settings.server.socket = socket }
        if let backend {
            guard let kind = RampartConfig.Backend.Kind(rawValue: backend) else {
                throw ValidationError("--backend must be one of: \(RampartConfig.Backend.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.backend = RampartConfig.Backend(kind: kind, modelPath: kind == .builtin ? settings.backend.modelPath : nil)
        }
        if let logLevel {
            guard let level = RampartConfig.Logging.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of: \(RampartConfig.Logging.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.logging.level = level
        }
        try settings.validate(source: config ?? "--dev")
        LogSetup.bootstrap(level: settings.logging.level, format: settings.logging.format)
        let logger = Logger(label: "rampart")

        let socketDirectory = (settings.server.socket as NSString).deletingLastPathComponent
        if dev, !socketDirectory.isEmpty {
            try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let backend = try makeBackend(settings.backend, logger: logger)
        let signals = SignalStore()
        let audit = try Self.auditSink(settings.audit, logger: logger)
        let chains = ChainHolder(try PluginSetup.chain(for: settings, signals: signals, audit: audit, logger: logger))
        let reloader = ChainReloader(configPath: config, overrides: self, chains: chains, signals: signals, audit: audit, logger: logger)
        let server: RampartServer
        do {
            server = try RampartServer.start(settings: ServerSettings(settings), backend: backend, logger: logger, chains: chains) {
                AdminService(chains: chains, reloader: reloader).register(in: &$0)
            }
        } catch {
            throw CLIError("error: \(error)")
        }
        if dev {
            let model = backend.model
            FileHandle.standardOutput.write(Data("""
                rampart \(RampartVersion.string) serving in DEV mode
                  socket:  \(settings.server.socket)  (mode 0600)
                  model:   \(model.name) \(model.version) (\(model.backend))
                  try:     rampart infer --socket \(settings.server.socket) "The gateway"

                """.utf8))
        }
        await waitForTermination(logger: logger, onReload: { _ = reloader.reload(trigger: "SIGHUP") })
        await server.shutdown()
    }

    /// The audit trail `[audit]` asks for (none when `path` is empty). It lives for the process:
    /// changing `[audit]` needs a restart.
    static func auditSink(_ audit: RampartConfig.Audit, logger: Logger) throws -> any AuditSink {
        guard !audit.path.isEmpty else { return DiscardAuditSink() }
        let policy: AuditFsyncPolicy = switch audit.fsync {
        case .always: .always
        case .interval: .interval
        case .never: .never
        }
        do {
            let sink = try JSONLinesAuditSink(path: audit.path, fsync: policy)
            logger.info("audit trail", metadata: ["path": "\(audit.path)", "fsync": "\(audit.fsync.rawValue)"])
            return sink
        } catch {
            throw CLIError("error: \(error)")
        }
    }

    func loadConfig() throws -> RampartConfig {
        if dev {
            guard config == nil else { throw ValidationError("use either --dev or --config, not both") }
            let runDirectory = runDir.hasPrefix("/") ? runDir : FileManager.default.currentDirectoryPath + "/" + runDir
            return RampartConfig.dev(runDirectory: runDirectory)
        }
        guard let config else {
            throw ValidationError("give --config FILE, or --dev for embedded defaults")
        }
        do {
            return try ConfigLoader.load(path: config)
        } catch let error as ConfigError {
            throw CLIError("invalid configuration:\n\(error)")
        }
    }

    private func makeBackend(_ backend: RampartConfig.Backend, logger: Logger) throws -> any InferenceBackend {
        switch backend.kind {
        case .null:
            return NullBackend()
        case .builtin:
            guard let path = backend.modelPath ?? BuiltinModel.bundledArtifactPath else {
                throw CLIError("error: the bundled model artifact is missing; set backend.model_path")
            }
            do {
                let model = try BuiltinModel.load(directory: path)
                logger.info("model verified", metadata: ["path": "\(path)", "version": "\(model.model.version)"])
                return model
            } catch {
                throw CLIError("error: refusing to serve: model at \(path) failed verification: \(error)")
            }
        }
    }

    /// Suspends until SIGTERM or SIGINT; SIGHUP reloads the plugin chain.
    private func waitForTermination(logger: Logger, onReload: @escaping @Sendable () -> Void) async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            sources.append(source)
        }
        for await sig in stream {
            if sig == SIGHUP {
                onReload()
                continue
            }
            logger.info("signal received, draining", metadata: ["signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")"])
            break
        }
        sources.forEach { $0.cancel() }
    }
}

extension ServerSettings {
    /// Maps the validated config file to the server's settings.
    init(_ config: RampartConfig) {
        self.init(socketPath: config.server.socket)
        socketMode = UInt32(config.server.socketMode.permissions)
        socketGroup = config.server.socketGroup?.description
        maxFrameSize = config.server.maxFrameSize
        maxConcurrentStreams = config.server.maxConcurrentStreams
        readTimeoutMillis = Int64(config.server.readTimeoutMs)
        idleTimeoutMillis = Int64(config.server.idleTimeoutMs)
        drainTimeoutMillis = Int64(config.server.drainTimeoutMs)
        eventLoopThreads = config.server.eventLoopThreads
        workerThreads = config.server.workerThreads
        lz4 = config.server.lz4
        lz4Threshold = config.server.lz4Threshold
        switch config.server.flushEvery {
        case .auto: flushEvery = ServerSettings.automaticFlushEvery
        case .answers(let n): flushEvery = n
        }
        limits.maxTokens = config.limits.maxTokens
        limits.defaultMaxTokens = config.limits.defaultMaxTokens
        limits.maxPromptBytes = config.limits.maxPromptBytes
        limits.maxMessages = config.limits.maxMessages
    }
}

/// SIGHUP: re-reads the config file and rebuilds the plugin chain. A config or plugin that fails
/// is refused and the running chain keeps serving; in-flight calls finish on the chain they began on.
struct ChainReloader: Sendable {
    let configPath: String?
    let overrides: ServeCommand
    let chains: ChainHolder
    let signals: SignalStore
    let audit: any AuditSink
    let logger: Logger

    /// Reloads; returns the new chain's plugin names, or the reason it was refused. Either way
    /// the attempt is audited (`chain.reload`).
    func reload(trigger: String) -> Result<[String], CLIError> {
        guard configPath != nil else {
            logger.warning("\(trigger) ignored: --dev has no config file to reload")
            audit.recordHost(kind: "chain.reload", outcome: "failure", reason: "no_config_file", attributes: ["trigger": trigger])
            return .failure(CLIError("--dev has no config file to reload"))
        }
        do {
            let config = try overrides.loadConfig()
            try config.validate(source: configPath ?? "")
            let next = try PluginSetup.chain(for: config, signals: signals, audit: audit, logger: logger)
            chains.swap(next)
            let names = next.stages.map(\.name)
            logger.notice("reloaded plugin chain", metadata: ["plugins": "\(names.joined(separator: " → "))"])
            audit.recordHost(kind: "chain.reload", outcome: "success",
                             attributes: ["trigger": trigger, "plugins": names.joined(separator: ",")])
            return .success(names)
        } catch {
            logger.error("reload refused; the previous chain keeps serving", metadata: ["error": "\(error)"])
            audit.recordHost(kind: "chain.reload", outcome: "failure", reason: "invalid_config_or_plugin",
                             attributes: ["trigger": trigger])
            return .failure(CLIError("reload refused; the previous chain keeps serving: \(error)"))
        }
    }
}
