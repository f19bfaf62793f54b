import Foundation
import Logging
import RampartChain
import RampartConfig
import RampartPluginHost
import RampartSigning

/// Builds the plugin chain a config describes: trusted keys → signed-plugin loader → chain.
/// All or nothing: any plugin that fails verification, loading or `create` refuses the whole
/// chain with the plugin's own error text.
enum PluginSetup {
    static func chain(for config: RampartConfig, signals: SignalStore, logger: Logger) throws -> PluginChain {
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
            let trusted = keys
            trust = .signed { directory in
                let manifest = try ModelVerifier.verify(directory: directory, trustedKeys: trusted)
                var digests: [String: [UInt8]] = [:]
                for file in manifest.files { digests[file.path] = hexBytes(file.sha256) }
                return digests
            }
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

    private static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return []
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}
