import RampartCore

/// Why a plugin could not be loaded, created or called. Every case names the plugin and the
/// precise reason, for the operator.
public enum PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read, copied or opened by the dynamic loader.
    case cannotOpen(plugin: String, reason: String)
    /// The library does not export `rampart_plugin_v1`.
    case missingEntrySymbol(plugin: String)
    /// The entry function returned NULL.
    case nullDescriptor(plugin: String)
    /// The descriptor's magic number is wrong (not a Rampart plugin, or corrupt).
    case badMagic(plugin: String, found: UInt32)
    /// Built for another major ABI version, or a newer minor one.
    case abiMismatch(plugin: String, pluginMajor: UInt16, pluginMinor: UInt16, hostMajor: UInt16, hostMinor: UInt16)
    /// The descriptor is shorter than the v1.0 layout.
    case structTooSmall(plugin: String, size: UInt32, minimum: UInt32)
    /// Capability flags and hook pointers disagree, or a required field is missing.
    case malformedDescriptor(plugin: String, reason: String)
    /// The plugin's signature did not verify (or it is unsigned outside dev mode).
    case untrusted(plugin: String, reason: String)
    /// `create` rejected the configuration; `message` is the plugin's own text.
    case createFailed(plugin: String, status: Int32, message: String)
    /// A hook returned an error status.
    case hookFailed(plugin: String, hook: String, status: Int32, message: String)
    /// A hook wrote something that is not a valid Verdict.
    case malformedVerdict(plugin: String, hook: String, reason: String)
    /// A hook took longer than the plugin's timeout.
    case timeout(plugin: String, hook: String, limitMillis: Int)
    /// An isolated plugin process died or stopped answering.
    case crashed(plugin: String, reason: String)
    /// A plugin-served method (ABI 1.1) answered with a non-OK status; `message` is the
    /// plugin's own text, which the client receives.
    case methodFailed(plugin: String, status: Int32, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "plugin \(p): cannot open: \(r)"
        case .missingEntrySymbol(let p): "plugin \(p): missing entry symbol rampart_plugin_v1 (is it a Rampart plugin?)"
        case .nullDescriptor(let p): "plugin \(p): rampart_plugin_v1() returned NULL (the plugin refused this host ABI)"
        case .badMagic(let p, let found): "plugin \(p): bad descriptor magic 0x\(String(found, radix: 16)) (expected 0x5250504c 'RPPL')"
        case .abiMismatch(let p, let pM, let pm, let hM, let hm):
            "plugin \(p): built for ABI \(pM).\(pm), host is \(hM).\(hm) (major must match, minor must not be newer)"
        case .structTooSmall(let p, let size, let minimum): "plugin \(p): descriptor struct_size \(size) is smaller than the v1.0 size \(minimum)"
        case .malformedDescriptor(let p, let r): "plugin \(p): malformed descriptor: \(r)"
        case .untrusted(let p, let r): "plugin \(p): refused: \(r)"
        case .createFailed(let p, let status, let message):
            "plugin \(p): create failed (status \(status))" + (message.isEmpty ? "" : ": \(message)")
        case .hookFailed(let p, let hook, let status, let message):
            "plugin \(p): \(hook) failed (status \(status))" + (message.isEmpty ? "" : ": \(message)")
        case .malformedVerdict(let p, let hook, let r): "plugin \(p): \(hook) returned a malformed verdict: \(r)"
        case .timeout(let p, let hook, let limit): "plugin \(p): \(hook) exceeded its timeout of \(limit) ms"
        case .crashed(let p, let r): "plugin \(p): isolated process failed: \(r)"
        case .methodFailed(let p, let status, let message): message.isEmpty ? "plugin \(p) failed (status \(status))" : message
        }
    }
}
