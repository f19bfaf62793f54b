import RampartCore
import RampartProto

/// PluginError ⇄ IsolatedError: an error raised in the plugin process reaches the chain as the
/// same PluginError (same case, same operator text) as it would in-process.
extension PluginError {
    var wire: Rampart_V1_IsolatedError {
        var e = Rampart_V1_IsolatedError()
        switch self {
        case .cannotOpen(let p, let r): e.kind = .cannotOpen; e.plugin = p; e.text = r
        case .missingEntrySymbol(let p): e.kind = .missingEntrySymbol; e.plugin = p
        case .nullDescriptor(let p): e.kind = .nullDescriptor; e.plugin = p
        case .badMagic(let p, let found): e.kind = .badMagic; e.plugin = p; e.numbers = [Int64(found)]
        case .abiMismatch(let p, let pM, let pm, let hM, let hm):
            e.kind = .abiMismatch; e.plugin = p; e.numbers = [Int64(pM), Int64(pm), Int64(hM), Int64(hm)]
        case .structTooSmall(let p, let size, let minimum):
            e.kind = .structTooSmall; e.plugin = p; e.numbers = [Int64(size), Int64(minimum)]
        case .malformedDescriptor(let p, let r): e.kind = .malformedDescriptor; e.plugin = p; e.text = r
        case .untrusted(let p, let r): e.kind = .untrusted; e.plugin = p; e.text = r
        case .createFailed(let p, let status, let message):
            e.kind = .createFailed; e.plugin = p; e.text = message; e.numbers = [Int64(status)]
        case .hookFailed(let p, let hook, let status, let message):
            e.kind = .hookFailed; e.plugin = p; e.hook = hook; e.text = message; e.numbers = [Int64(status)]
        case .malformedVerdict(let p, let hook, let r): e.kind = .malformedVerdict; e.plugin = p; e.hook = hook; e.text = r
        case .timeout(let p, let hook, let limit): e.kind = .timeout; e.plugin = p; e.hook = hook; e.numbers = [Int64(limit)]
        case .crashed(let p, let r): e.kind = .crashed; e.plugin = p; e.text = r
        case .methodFailed(let p, let status, let message):
            // Methods are not served in isolated processes; carried as a hook failure.
            e.kind = .hookFailed; e.plugin = p; e.hook = "on_method"; e.text = message; e.numbers = [Int64(status)]
        }
        return e
    }

    /// The error the child reported; a malformed report becomes `.crashed` (the caller then
    /// treats the child as broken).
    init(wire e: Rampart_V1_IsolatedError) {
        func number(_ index: Int) -> Int64? { index < e.numbers.count ? e.numbers[index] : nil }
        func u16(_ index: Int) -> UInt16? { number(index).flatMap { UInt16(exactly: $0) } }
        func u32(_ index: Int) -> UInt32? { number(index).flatMap { UInt32(exactly: $0) } }
        func i32(_ index: Int) -> Int32? { number(index).flatMap { Int32(exactly: $0) } }
        let p = e.plugin
        let decoded: PluginError? = switch e.kind {
        case .cannotOpen: .cannotOpen(plugin: p, reason: e.text)
        case .missingEntrySymbol: .missingEntrySymbol(plugin: p)
        case .nullDescriptor: .nullDescriptor(plugin: p)
        case .badMagic: u32(0).map { .badMagic(plugin: p, found: $0) }
        case .abiMismatch:
            u16(0).flatMap { pM in u16(1).flatMap { pm in u16(2).flatMap { hM in u16(3).map { hm in
                .abiMismatch(plugin: p, pluginMajor: pM, pluginMinor: pm, hostMajor: hM, hostMinor: hm)
            } } } }
        case .structTooSmall: u32(0).flatMap { size in u32(1).map { .structTooSmall(plugin: p, size: size, minimum: $0) } }
        case .malformedDescriptor: .malformedDescriptor(plugin: p, reason: e.text)
        case .untrusted: .untrusted(plugin: p, reason: e.text)
        case .createFailed: i32(0).map { .createFailed(plugin: p, status: $0, message: e.text) }
        case .hookFailed: i32(0).map { .hookFailed(plugin: p, hook: e.hook, status: $0, message: e.text) }
        case .malformedVerdict: .malformedVerdict(plugin: p, hook: e.hook, reason: e.text)
        case .timeout: number(0).flatMap { Int(exactly: $0) }.map { .timeout(plugin: p, hook: e.hook, limitMillis: $0) }
        case .crashed: .crashed(plugin: p, reason: e.text)
        case .unspecified, .UNRECOGNIZED: nil
        }
        self = decoded ?? .crashed(plugin: p, reason: "the plugin process reported an unreadable error (\(e.kind))")
    }
}

/// The status a failed call ends with when the plugin's failure mode is closed: a plugin that
/// crashed or hung makes the call UNAVAILABLE (retryable); anything else it did wrong is INTERNAL.
extension PluginError: StatusCodeConvertible {
    public var statusCode: StatusCode {
        switch self {
        case .crashed, .timeout: .unavailable
        // A plugin-served method answers with its own status (NOT_FOUND, UNAUTHENTICATED, ...).
        case .methodFailed(_, let status, _): StatusCode(rawValue: status).flatMap { $0 == .ok ? nil : $0 } ?? .internal
        default: .internal
        }
    }
}
