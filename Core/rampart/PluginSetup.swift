import Foundation
import Logging
import RampartAudit
import RampartChain
import RampartConfig
import RampartPluginHost
import RampartSigning

/// Builds the plugin chain a config describes: trusted keys → signed-plugin loader → chain.
/// All or nothing: any plugin that fails verification, loading or `create` refuses the whole
/// chain with the plugin's own error text.
enum PluginSetup {
    static func chain(for config: RampartConfig, signals: SignalStore, audit: any AuditSink = DiscardAuditSink(),
                      logger: Logger) throws -> PluginChain {
        let enabled = config.plugins.filter(\.enabled)
        guard !enabled.isEmpty else { return .empty }
        let trust: PluginTrust
        if config.pluginTrust.allowUnsigned {
            logger.warning("""
                plugin_trust.allow_unsigned = true: plugins are loaded WITHOUT signature verification. \
                Never use this outside development.
                """)
            trust = .unsignedDevelopment
        } else {
            var keys: [VerifyingKey] = []
            for path in config.pluginTrust.trustedKeys {
                do {
                    keys.append(try VerifyingKey(pemFile: path))
                } catch {
                    throw CLIError("plugin_trust.trusted_keys: cannot use \(path): \(error)")
                }
            }
            trust = signedTrust(keys)
        }
        var builder = ChainBuilder(
            loader: PluginLoader(cacheDirectory: config.pluginTrust.cacheDir, trust: trust),
            signals: signals, holdBackBytes: config.chain.holdBackBytes
        ) { plugin, level, message in
            let swiftLevel: Logger.Level = switch level {
            case .debug: .debug
            case .info: .info
            case .warning: .warning
            case .error: .error
            }
            logger.log(level: swiftLevel, "\(message)", metadata: ["plugin": "\(plugin)"])
        }
        builder.trustedKeyFiles = config.pluginTrust.trustedKeys
        builder.audit = audit
        let specs = enabled.map { plugin in
            PluginSpec(
                name: plugin.name, directory: plugin.path, config: plugin.configBytes,
                policy: StagePolicy(failureMode: plugin.failureMode == .open ? .open : .closed,
                                    timeout: .milliseconds(plugin.timeoutMs)),
                isolated: plugin.isolation == .process)
        }
        do {
            let chain = try builder.build(specs)
            logger.info("plugin chain ready", metadata: ["plugins": "\(specs.map(\.name).joined(separator: " → "))"])
            return chain
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Trust in plugin directories whose OpenSSF signature verifies against one of `keys`.
    static func signedTrust(_ keys: [VerifyingKey]) -> PluginTrust {
        .signed { directory in
            try ModelVerifier.verify(directory: directory, trustedKeys: keys).digestsByPath
        }
    }
}
