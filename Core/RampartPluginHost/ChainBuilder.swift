import Foundation
import RampartAudit
import RampartChain

/// One configured plugin, as the chain builder needs it.
public struct PluginSpec: Sendable, Hashable {
    public var name: String
    /// The plugin directory: `plugin.json`, the library, and `model.sig`.
    public var directory: String
    public var config: [UInt8]
    public var policy: StagePolicy
    /// Run in a child process instead of in-process.
    public var isolated: Bool

    public init(name: String, directory: String, config: [UInt8] = [], policy: StagePolicy = StagePolicy(), isolated: Bool = false) {
        self.name = name
        self.directory = directory
        self.config = config
        self.policy = policy
        self.isolated = isolated
    }
}

/// The manifest every plugin directory carries (`plugin.json`): `{"name": "...", "library": "lib….so"}`.
public struct PluginManifest: Sendable, Hashable, Decodable {
    public var name: String
    public var library: String

    /// Reads and checks `plugin.json`; the library must be a plain file name inside the directory.
    public static func read(directory: String, plugin: String) throws(PluginError) -> PluginManifest {
        let path = directory + "/plugin.json"
        guard let data = FileManager.default.contents(atPath: path), data.count <= 65_536 else {
            throw .cannotOpen(plugin: plugin, reason: "cannot read \(path) (a plugin directory needs plugin.json)")
        }
        let manifest: PluginManifest
        do {
            manifest = try JSONDecoder().decode(PluginManifest.self, from: data)
        } catch {
            throw .malformedDescriptor(plugin: plugin, reason: "plugin.json: \(error)")
        }
        guard !manifest.library.isEmpty, !manifest.library.contains("/"), manifest.library != "..", manifest.library != "." else {
            throw .malformedDescriptor(plugin: plugin, reason: "plugin.json: library must be a file name inside the plugin directory")
        }
        return manifest
    }
}

/// Builds a chain from configured plugins: verify, load, create — all or nothing, so a bad
/// plugin refuses the whole (re)load and the previous chain keeps serving.
public struct ChainBuilder: Sendable {
    public let loader: PluginLoader
    public let signals: SignalStore
    public let holdBackBytes: Int
    public let log: @Sendable (String, PluginLogLevel, String) -> Void
    /// The `rampart` executable whose `plugin-host` subcommand runs isolated plugins (the CLI:
    /// itself; tests: the built binary).
    public var executablePath = "/proc/self/exe"
    /// The trusted public keys (PEM files) an isolated plugin's process verifies the plugin
    /// directory with, when `loader` trusts signed plugins only.
    public var trustedKeyFiles: [String] = []
    /// Where plugins' audit events go (ABI 1.1 `audit`).
    public var audit: any AuditSink = DiscardAuditSink()

    public init(loader: PluginLoader, signals: SignalStore, holdBackBytes: Int,
                log: @escaping @Sendable (_ plugin: String, PluginLogLevel, String) -> Void) {
        self.loader = loader
        self.signals = signals
        self.holdBackBytes = holdBackBytes
        self.log = log
    }

    public func build(_ specs: [PluginSpec]) throws(PluginError) -> PluginChain {
        var stages: [ChainStage] = []
        for spec in specs {
            if spec.isolated {
                stages.append(ChainStage(plugin: try isolatedPlugin(spec), policy: spec.policy))
                continue
            }
            let manifest = try PluginManifest.read(directory: spec.directory, plugin: spec.name)
            let library = try loader.load(directory: spec.directory, library: manifest.library, name: spec.name)
            let log = self.log
            let name = spec.name
            let plugin = try NativePlugin(library: library, name: spec.name, config: spec.config, signals: signals,
                                          audit: audit) { level, message in
                log(name, level, message)
            }
            stages.append(ChainStage(plugin: plugin, policy: spec.policy))
        }
        do {
            return try PluginChain(stages: stages, holdBackBytes: holdBackBytes, audit: audit)
        } catch {
            throw .malformedDescriptor(plugin: error.secondPlugin, reason: error.description)
        }
    }

    /// `isolation = "process"`: verified here (nothing is mapped into the sidecar), then loaded
    /// and created in a child process that verifies again (docs/ISOLATION.md).
    private func isolatedPlugin(_ spec: PluginSpec) throws(PluginError) -> IsolatedPlugin {
        let trust: IsolatedTrust
        switch loader.trust {
        case .unsignedDevelopment:
            trust = .unsignedDevelopment
        case .signed:
            guard !trustedKeyFiles.isEmpty else {
                throw .untrusted(plugin: spec.name, reason: "the plugin process verifies the directory again and needs "
                                 + "the trusted public keys: set ChainBuilder.trustedKeyFiles")
            }
            trust = .trustedKeys(trustedKeyFiles)
        }
        let manifest = try PluginManifest.read(directory: spec.directory, plugin: spec.name)
        let digest = try IsolatedPlugin.verify(loader: loader, directory: spec.directory, library: manifest.library, name: spec.name)
        let log = self.log
        let name = spec.name
        return try IsolatedPlugin(
            name: spec.name, directory: spec.directory, library: manifest.library, config: spec.config,
            expectedDigest: digest, timeout: spec.policy.timeout,
            options: IsolationOptions(executable: executablePath, trust: trust, cacheDirectory: loader.cacheDirectory)
        ) { level, message in
            log(name, level, message)
        }
    }
}
