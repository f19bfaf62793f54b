internal import CRampartPlugin
import Synchronization

/// The plugin ABI version this kit implements (`RP_ABI_MAJOR`.`RP_ABI_MINOR`).
public enum PluginABI {
    /// The major version: a host loads the plugin only if its major version is the same.
    public static var major: UInt16 { UInt16(RP_ABI_MAJOR) }
    /// The minor version: a host loads the plugin only if its minor version is not older.
    public static var minor: UInt16 { UInt16(RP_ABI_MINOR) }
}

/// Exports a ``RampartPlugin`` type through the C ABI.
///
/// Every plugin library exports exactly one C symbol, `rampart_plugin_v1`. In Swift:
///
/// ```swift
/// @_cdecl("rampart_plugin_v1")
/// public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
///     PluginExport.descriptor(for: MyPlugin.self, hostMajor: major, hostMinor: minor)
/// }
/// ```
public enum PluginExport {
    /// The most plugin types one library (one loaded image) can export descriptors for.
    ///
    /// A library normally exports one type; the limit exists because C function pointers cannot
    /// capture the Swift type, so each type gets one of a fixed set of `create` entry points.
    public static let maximumTypesPerLibrary = 16

    /// The `rp_plugin_v1` descriptor for `type`, built on first use and never freed (the ABI
    /// requires it to live as long as the process).
    ///
    /// The descriptor's capability flags and hook pointers come from `P.hooks` and
    /// `P.isThreadSafe`; its name and version from `P.name` and `P.version`.
    ///
    /// - Parameters:
    ///   - hostMajor: the host's ABI major version (the entry symbol's first argument).
    ///   - hostMinor: the host's ABI minor version (the entry symbol's second argument).
    /// - Returns: the descriptor, or `nil` (the host then refuses the plugin) when the host's
    ///   major version differs from ``PluginABI/major`` or more than
    ///   ``maximumTypesPerLibrary`` types were exported from this library.
    public static func descriptor<P: RampartPlugin>(
        for type: P.Type, hostMajor: UInt16 = PluginABI.major, hostMinor: UInt16 = PluginABI.minor
    ) -> UnsafeRawPointer? {
        guard hostMajor == PluginABI.major else { return nil }
        return Registry.descriptor(for: type).map { UnsafeRawPointer($0) }
    }
}

/// Plugin types exported from this image, each with its `create` slot and descriptor.
enum Registry {
    struct State {
        var slots: [ObjectIdentifier: Int] = [:]
        var types: [any RampartPlugin.Type] = []
        /// Addresses of the descriptors (static lifetime), by slot.
        var descriptors: [UInt] = []
    }

    static let state = Mutex(State())

    static func descriptor(for type: any RampartPlugin.Type) -> UnsafePointer<rp_plugin_v1>? {
        state.withLock { state -> UnsafePointer<rp_plugin_v1>? in
            if let slot = state.slots[ObjectIdentifier(type)] {
                return UnsafePointer(bitPattern: state.descriptors[slot])
            }
            let slot = state.types.count
            guard slot < PluginExport.maximumTypesPerLibrary,
                  let descriptor = DescriptorBuilder.make(for: type, slot: slot) else { return nil }
            state.slots[ObjectIdentifier(type)] = slot
            state.types.append(type)
            state.descriptors.append(UInt(bitPattern: descriptor))
            return descriptor
        }
    }

    static func type(at slot: Int) -> (any RampartPlugin.Type)? {
        state.withLock { state in state.types.indices.contains(slot) ? state.types[slot] : nil }
    }
}

/// Builds `rp_plugin_v1` descriptors. Every function pointer is a non-capturing closure that
/// forwards to ``Hooks``; only `create` differs per type (see ``createEntry(slot:)``).
enum DescriptorBuilder {
    typealias CreateFunction = @convention(c) (
        UnsafePointer<rp_host_api>?, UnsafePointer<UInt8>?, Int,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, OpaquePointer?
    ) -> rp_status

    /// The capability flags for a set of hooks.
    static func capabilities(_ hooks: PluginHooks, threadSafe: Bool, allMethods: Bool = false) -> UInt64 {
        var flags: UInt64 = 0
        if hooks.contains(.request) { flags |= RP_CAP_HOOK_REQUEST }
        if hooks.contains(.response) { flags |= RP_CAP_HOOK_RESPONSE }
        if hooks.contains(.chunk) { flags |= RP_CAP_HOOK_CHUNK }
        if hooks.contains(.logits) { flags |= RP_CAP_HOOK_LOGITS }
        if hooks.contains(.streamEnd) { flags |= RP_CAP_HOOK_STREAM_END }
        if threadSafe { flags |= RP_CAP_THREADSAFE }
        if allMethods { flags |= RP_CAP_ALL_METHODS }
        // ABI 1.2: the kit reads inputs through the host's field getters when no protobuf comes.
        if !hooks.isDisjoint(with: [.request, .response, .streamEnd]) { flags |= RP_CAP_HOST_FIELDS }
        return flags
    }

    static func make(for type: any RampartPlugin.Type, slot: Int) -> UnsafePointer<rp_plugin_v1>? {
        guard let create = createEntry(slot: slot) else { return nil }
        let hooks = type.hooks
        var d = rp_plugin_v1()
        d.magic = RP_PLUGIN_MAGIC
        d.struct_size = UInt32(MemoryLayout<rp_plugin_v1>.size)
        d.abi_major = UInt16(RP_ABI_MAJOR)
        d.abi_minor = UInt16(RP_ABI_MINOR)
        d.name = staticCString(type.name)
        d.version = staticCString(type.version)
        d.capabilities = capabilities(hooks, threadSafe: type.isThreadSafe, allMethods: type.seesAllMethods)
        let methods = type.methods
        if !methods.isEmpty {
            let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: methods.count + 1)
            for (index, method) in methods.enumerated() { list[index] = staticCString(method) }
            list[methods.count] = nil
            d.methods = UnsafePointer(list)
            d.on_method = { instance, bytes, length, out, call in Hooks.onMethod(instance, bytes, length, out, call) }
        }
        d.create = create
        d.destroy = { instance in Hooks.destroy(instance) }
        if hooks.contains(.streamState) {
            d.stream_new = { instance, out, call in Hooks.streamNew(instance, out, call) }
            d.stream_free = { instance, stream in Hooks.streamFree(instance, stream) }
        }
        if hooks.contains(.request) {
            d.on_request = { instance, stream, bytes, length, out, call in
                Hooks.onRequest(instance, stream, bytes, length, out, call)
            }
        }
        if hooks.contains(.response) {
            d.on_response = { instance, stream, bytes, length, out, call in
                Hooks.onResponse(instance, stream, bytes, length, out, call)
            }
        }
        if hooks.contains(.chunk) {
            d.on_chunk = { instance, stream, text, length, action, replacement, call in
                Hooks.onChunk(instance, stream, text, length, action, replacement, call)
            }
        }
        if hooks.contains(.logits) {
            d.on_logits = { instance, stream, logits, vocabulary, previous, count, call in
                Hooks.onLogits(instance, stream, logits, vocabulary, previous, count, call)
            }
        }
        if hooks.contains(.streamEnd) {
            d.on_stream_end = { instance, stream, bytes, length, call in
                Hooks.onStreamEnd(instance, stream, bytes, length, call)
            }
        }
        let descriptor = UnsafeMutablePointer<rp_plugin_v1>.allocate(capacity: 1)
        descriptor.initialize(to: d)
        return UnsafePointer(descriptor)
    }

    /// A NUL-terminated copy of `text` that is never freed (NULs inside are cut off by C readers).
    private static func staticCString(_ text: String) -> UnsafePointer<CChar> {
        let bytes = Array(text.utf8)
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { storage[index] = CChar(bitPattern: byte) }
        storage[bytes.count] = 0
        return UnsafePointer(storage)
    }

    /// One `create` entry point per slot: a C function pointer cannot capture which Swift type
    /// to instantiate, so the slot number is baked into each closure instead.
    static func createEntry(slot: Int) -> CreateFunction? {
        switch slot {
        case 0: { Hooks.create(slot: 0, $0, $1, $2, $3, $4) }
        case 1: { Hooks.create(slot: 1, $0, $1, $2, $3, $4) }
        case 2: { Hooks.create(slot: 2, $0, $1, $2, $3, $4) }
        case 3: { Hooks.create(slot: 3, $0, $1, $2, $3, $4) }
        case 4: { Hooks.create(slot: 4, $0, $1, $2, $3, $4) }
        case 5: { Hooks.create(slot: 5, $0, $1, $2, $3, $4) }
        case 6: { Hooks.create(slot: 6, $0, $1, $2, $3, $4) }
        case 7: { Hooks.create(slot: 7, $0, $1, $2, $3, $4) }
        case 8: { Hooks.create(slot: 8, $0, $1, $2, $3, $4) }
        case 9: { Hooks.create(slot: 9, $0, $1, $2, $3, $4) }
        case 10: { Hooks.create(slot: 10, $0, $1, $2, $3, $4) }
        case 11: { Hooks.create(slot: 11, $0, $1, $2, $3, $4) }
        case 12: { Hooks.create(slot: 12, $0, $1, $2, $3, $4) }
        case 13: { Hooks.create(slot: 13, $0, $1, $2, $3, $4) }
        case 14: { Hooks.create(slot: 14, $0, $1, $2, $3, $4) }
        case 15: { Hooks.create(slot: 15, $0, $1, $2, $3, $4) }
        default: nil
        }
    }
}
