import CRampartPlugin
#if canImport(Glibc)
import Glibc
#endif

/// Size of the v1.0 descriptor: the smallest `struct_size` the host accepts.
let descriptorV1Size = UInt32(MemoryLayout<rp_plugin_v1>.size)

/// What the host learned from a validated descriptor.
public struct PluginInfo: Sendable, Hashable {
    public var name: String
    public var version: String
    public var abiMinor: UInt16
    public var capabilities: PluginCapabilities
    /// ABI 1.1: the methods the plugin serves.
    public var methods: [String] = []
}

/// The `RP_CAP_*` flags.
public struct PluginCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let request = PluginCapabilities(rawValue: 1 << 0)
    public static let response = PluginCapabilities(rawValue: 1 << 1)
    public static let chunk = PluginCapabilities(rawValue: 1 << 2)
    public static let logits = PluginCapabilities(rawValue: 1 << 3)
    public static let streamEnd = PluginCapabilities(rawValue: 1 << 4)
    public static let threadSafe = PluginCapabilities(rawValue: 1 << 32)
    /// ABI 1.1: `on_request` sees every RPC (`RP_CAP_ALL_METHODS`).
    public static let allMethods = PluginCapabilities(rawValue: 1 << 33)
    /// ABI 1.2: the plugin reads fields through the host and accepts NULL protobuf inputs
    /// (`RP_CAP_HOST_FIELDS`).
    public static let hostFields = PluginCapabilities(rawValue: 1 << 34)
    static let known: PluginCapabilities = [.request, .response, .chunk, .logits, .streamEnd, .threadSafe, .allMethods, .hostFields]
}

enum DescriptorValidator {
    /// Checks a descriptor returned by a plugin's entry symbol (the Postgres/SQLite rules:
    /// magic, major version, minor not newer, struct size, flags agreeing with pointers).
    static func validate(_ pointer: UnsafePointer<rp_plugin_v1>?, plugin: String) throws(PluginError) -> PluginInfo {
        guard let pointer else { throw .nullDescriptor(plugin: plugin) }
        // Read the fixed prefix first: a short struct must not be read past its end.
        let raw = UnsafeRawPointer(pointer)
        let magic = raw.loadUnaligned(as: UInt32.self)
        guard magic == RP_PLUGIN_MAGIC else { throw .badMagic(plugin: plugin, found: magic) }
        let size = raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let major = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        let minor = raw.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        guard major == UInt16(RP_ABI_MAJOR), minor <= UInt16(RP_ABI_MINOR) else {
            throw .abiMismatch(plugin: plugin, pluginMajor: major, pluginMinor: minor,
                               hostMajor: UInt16(RP_ABI_MAJOR), hostMinor: UInt16(RP_ABI_MINOR))
        }
        guard size >= descriptorV1Size else {
            throw .structTooSmall(plugin: plugin, size: size, minimum: descriptorV1Size)
        }
        let d = pointer.pointee
        guard let namePointer = d.name, let versionPointer = d.version else {
            throw .malformedDescriptor(plugin: plugin, reason: "name and version must be set")
        }
        let name = String(cString: namePointer)
        guard !name.isEmpty, name.utf8.count <= 64 else {
            throw .malformedDescriptor(plugin: plugin, reason: "name must be 1 to 64 bytes")
        }
        guard d.create != nil, d.destroy != nil else {
            throw .malformedDescriptor(plugin: plugin, reason: "create and destroy are required")
        }
        let caps = PluginCapabilities(rawValue: d.capabilities)
        guard caps.isSubset(of: .known) else {
            throw .malformedDescriptor(plugin: plugin, reason: "unknown capability bits 0x\(String(caps.subtracting(.known).rawValue, radix: 16))")
        }
        let pairs: [(PluginCapabilities, Bool, String)] = [
            (.request, d.on_request != nil, "on_request"), (.response, d.on_response != nil, "on_response"),
            (.chunk, d.on_chunk != nil, "on_chunk"), (.logits, d.on_logits != nil, "on_logits"),
            (.streamEnd, d.on_stream_end != nil, "on_stream_end"),
        ]
        for (flag, present, hook) in pairs where caps.contains(flag) != present {
            throw .malformedDescriptor(plugin: plugin,
                reason: present ? "\(hook) is set but its capability flag is not" : "capability flag for \(hook) is set but the pointer is NULL")
        }
        if (d.stream_new == nil) != (d.stream_free == nil) {
            throw .malformedDescriptor(plugin: plugin, reason: "stream_new and stream_free must both be set or both NULL")
        }
        if minor == 0, caps.contains(.allMethods) {
            throw .malformedDescriptor(plugin: plugin, reason: "RP_CAP_ALL_METHODS needs ABI 1.1 (the descriptor says 1.0)")
        }
        if minor < 2, caps.contains(.hostFields) {
            throw .malformedDescriptor(plugin: plugin, reason: "RP_CAP_HOST_FIELDS needs ABI 1.2 (the descriptor says 1.\(minor))")
        }
        let methods = minor >= 1 ? try readMethods(d, plugin: plugin) : []
        return PluginInfo(name: name, version: String(cString: versionPointer), abiMinor: minor, capabilities: caps,
                          methods: methods)
    }

    /// Largest number of methods one plugin may serve, and longest method path.
    static let maxMethods = 64
    static let maxMethodLength = 256

    /// ABI 1.1: the NULL-terminated `methods` list, which must agree with `on_method`.
    private static func readMethods(_ d: rp_plugin_v1, plugin: String) throws(PluginError) -> [String] {
        guard let list = d.methods else {
            if d.on_method != nil {
                throw .malformedDescriptor(plugin: plugin, reason: "on_method is set but methods is NULL")
            }
            return []
        }
        guard d.on_method != nil else {
            throw .malformedDescriptor(plugin: plugin, reason: "methods is set but on_method is NULL")
        }
        var methods: [String] = []
        var index = 0
        while let entry = list[index] {
            guard methods.count < maxMethods else {
                throw .malformedDescriptor(plugin: plugin, reason: "more than \(maxMethods) methods (is the list NULL-terminated?)")
            }
            let length = strnlen(entry, maxMethodLength + 1)
            let method = String(decoding: UnsafeRawBufferPointer(start: entry, count: length), as: UTF8.self)
            let parts = method.split(separator: "/", omittingEmptySubsequences: false)
            guard length <= maxMethodLength, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                  parts[0].contains("."), !method.hasPrefix("rampart.v1.Inference/"), !method.hasPrefix("rampart.v1.Health/"),
                  !methods.contains(method) else {
                throw .malformedDescriptor(plugin: plugin, reason:
                    "method \"\(method.prefix(64))\" must be \"package.Service/Method\" (at most \(maxMethodLength) bytes, "
                    + "unique, not an Inference or Health method)")
            }
            methods.append(method)
            index += 1
        }
        return methods
    }
}
