internal import CRampartPlugin
import RampartProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host services available to a plugin during one call: logging, shared signals, clocks.
///
/// A `PluginHost` is valid only during the call it was handed to (`init(config:host:)` or a
/// hook), on the calling thread: that is the ABI's rule for host callbacks. It is deliberately
/// not `Sendable`, so it cannot be stored in a plugin (plugins are `Sendable`) or sent to another
/// task. Used outside its call it does nothing: logs are dropped, ``signal(_:)`` returns `nil`,
/// and the clocks fall back to the local system clocks.
public struct PluginHost {
    /// Severity of a log line.
    public enum LogLevel: UInt32, Sendable {
        case debug = 0, info = 1, warning = 2, error = 3
    }

    let scope: CallScope

    init(scope: CallScope) {
        self.scope = scope
    }

    /// Whether this handle may still be used (its call is running on this thread).
    public var isValid: Bool { scope.isUsable }

    /// Writes a line to the host's log, attributed to this plugin.
    public func log(_ level: LogLevel, _ message: String) {
        guard scope.isUsable, let log = scope.api.pointee.log else { return }
        var text = message
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                log(scope.call, rp_log_level(level.rawValue), chars.baseAddress, chars.count)
            }
        }
    }

    /// Reads a shared signal published by a plugin (e.g. `"risk:<principal>"`); `nil` when absent,
    /// expired or when called outside the call.
    public func signal(_ key: String) -> Double? {
        guard scope.isUsable, let get = scope.api.pointee.signal_get else { return nil }
        var name = key
        var value = 0.0
        let found = name.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                get(scope.call, chars.baseAddress, chars.count, &value)
            }
        }
        return found == 1 ? value : nil
    }

    /// Publishes a shared signal for other plugins.
    /// - Parameter ttlMillis: lifetime in milliseconds; 0 means the host default.
    public func publishSignal(_ key: String, _ value: Double, ttlMillis: UInt64 = 0) {
        guard scope.isUsable, let set = scope.api.pointee.signal_set else { return }
        var name = key
        name.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                set(scope.call, chars.baseAddress, chars.count, value, ttlMillis)
            }
        }
    }

    /// Records a security event in the host's audit trail (ABI 1.1). The host fills in the time,
    /// request id, method, peer credentials and this plugin's name. Never put secret material
    /// (keys, tokens, codes) in an event. Returns whether the host accepted it.
    @discardableResult
    public func audit(_ event: Rampart_V1_AuditEvent) -> Bool {
        guard scope.isUsable, scope.hostHas(\.audit), let audit = scope.api.pointee.audit,
              let bytes: [UInt8] = try? event.serializedBytes() else { return false }
        return bytes.withUnsafeBufferPointer { audit(scope.call, $0.baseAddress, $0.count) } == RP_OK
    }

    /// Records a security event (see ``audit(_:)``) built from its parts.
    @discardableResult
    public func audit(kind: String, outcome: String, reason: String = "", principalID: String = "",
                      attributes: [String: String] = [:]) -> Bool {
        audit(Rampart_V1_AuditEvent(kind: kind, outcome: outcome, reason: reason, principalID: principalID,
                                    attributes: attributes))
    }

    /// The host's monotonic clock, in nanoseconds.
    public var monotonicNanoseconds: UInt64 {
        if scope.isUsable, let now = scope.api.pointee.now_ns { return now() }
        return Self.systemClock(CLOCK_MONOTONIC)
    }

    /// The host's wall clock (Unix epoch), in nanoseconds.
    public var wallClockNanoseconds: UInt64 {
        if scope.isUsable, let now = scope.api.pointee.wall_ns { return now() }
        return Self.systemClock(CLOCK_REALTIME)
    }

    private static func systemClock(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(max(0, ts.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, ts.tv_nsec))
    }
}

@available(*, unavailable, message: "a PluginHost is valid only during its call, on the calling thread")
extension PluginHost: Sendable {}

/// What a hook gets besides its input: the host services and the stream's state.
///
/// Valid only during the hook call, like ``PluginHost``.
public struct PluginCallContext {
    /// Logging, signals and clocks for this call.
    public let host: PluginHost
    /// The object ``RampartPlugin/makeStreamState(context:)`` returned for this stream, if any.
    public let streamState: AnyObject?

    init(host: PluginHost, streamState: AnyObject?) {
        self.host = host
        self.streamState = streamState
    }
}

@available(*, unavailable, message: "a PluginCallContext is valid only during its call, on the calling thread")
extension PluginCallContext: Sendable {}

/// One host call (`rp_call *`) as seen by the kit: open while the hook runs, on its thread.
final class CallScope {
    let api: UnsafePointer<rp_host_api>
    let call: OpaquePointer?
    private let thread = pthread_self()
    private var open = true

    init(api: UnsafePointer<rp_host_api>, call: OpaquePointer?) {
        self.api = api
        self.call = call
    }

    var isUsable: Bool { open && pthread_equal(thread, pthread_self()) != 0 }

    /// Whether the host's table is long enough to contain `field` (fields added in minor versions).
    func hostHas<T>(_ field: KeyPath<rp_host_api, T>) -> Bool {
        guard let offset = MemoryLayout<rp_host_api>.offset(of: field) else { return false }
        return Int(api.pointee.struct_size) >= offset + MemoryLayout<T>.size
    }

    func close() { open = false }

    /// Hands `message` to the host's `set_error` (at most 4096 bytes, cut at a character boundary).
    func setError(_ message: String) {
        guard let setError = api.pointee.set_error else { return }
        var bytes = Array(message.utf8)
        if bytes.count > 4096 {
            // Cut at a character boundary: back off over UTF-8 continuation bytes.
            var end = 4096
            while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            bytes.removeSubrange(end...)
        }
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                setError(call, chars.baseAddress, chars.count)
            }
        }
    }

    /// Reports `error` to the host and returns the status for it.
    func fail(_ error: any Error, hook: String) -> rp_status {
        if let error = error as? PluginError {
            setError(error.message)
            return rp_status(error.status.rawValue)
        }
        setError("\(hook): \(error)")
        return RP_ERR_INTERNAL
    }

    /// Appends bytes to a host buffer.
    func append(_ bytes: UnsafeRawBufferPointer, to buffer: OpaquePointer?, what: String) throws {
        if bytes.isEmpty { return }
        guard let buffer else { throw PluginError.invalidArgument("\(what): the host passed no output buffer") }
        guard let append = api.pointee.buf_append else { throw PluginError.failedPrecondition("the host table has no buf_append") }
        let status = append(buffer, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        guard status == RP_OK else {
            throw PluginError.internal("\(what) of \(bytes.count) bytes exceeds the host's output buffer limit")
        }
    }
}
