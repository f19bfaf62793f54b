import Synchronization

/// The credentials of the process on the other end of a Unix socket (SO_PEERCRED).
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid=\(pid) uid=\(uid) gid=\(gid)" }
}

/// What the server knows about one call. Built by the transport; never taken from the client.
public struct CallContext: Sendable {
    /// Server-assigned id, unique within this process's lifetime.
    public var requestID: String
    /// `/rampart.v1.Service/Method`.
    public var method: String
    /// The wire stream id.
    public var streamID: UInt32
    /// The peer process, when the platform reports it.
    public var peer: PeerCredentials?
    /// Request metadata (text values only; binary values are dropped here).
    public var metadata: [String: String]
    /// Absolute deadline on the monotonic clock (uptime nanoseconds), if the client set one.
    public var deadlineUptimeNanos: UInt64?

    public init(
        requestID: String, method: String, streamID: UInt32, peer: PeerCredentials?,
        metadata: [String: String] = [:], deadlineUptimeNanos: UInt64? = nil
    ) {
        self.requestID = requestID
        self.method = method
        self.streamID = streamID
        self.peer = peer
        self.metadata = metadata
        self.deadlineUptimeNanos = deadlineUptimeNanos
    }
}

/// Generates request ids: a random per-process prefix and a counter (`r-3f9a2c1b-000000000000002a`).
public final class RequestIDGenerator: Sendable {
    /// `r-<8 hex digits of this process's random>-` as bytes.
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    public init() {
        let random = UInt32.random(in: .min ... .max)
        let hex = String(random, radix: 16)
        prefix = Array(("r-" + String(repeating: "0", count: 8 - hex.count) + hex + "-").utf8)
    }

    /// The next id: the prefix and the call counter in 12 hex digits, built in one allocation
    /// (this runs on every call).
    public func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return String(unsafeUninitializedCapacity: prefix.count + 12) { buffer in
            var end = 0
            for byte in prefix {
                buffer[end] = byte
                end += 1
            }
            var value = n
            for index in stride(from: end + 11, through: end, by: -1) {
                let digit = UInt8(truncatingIfNeeded: value & 0xF)
                buffer[index] = digit < 10 ? 0x30 &+ digit : 0x57 &+ digit  // 0-9, a-f
                value >>= 4
            }
            return end + 12
        }
    }
}

/// A flag set once when a call is cancelled (client CANCEL, deadline, disconnect, shutdown).
/// Backends poll it through their token sink.
public final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)
    public init() {}
    /// Sets the flag; returns true if this call set it first.
    @discardableResult
    public func cancel() -> Bool { !state.exchange(true, ordering: .acquiringAndReleasing) }
    public var isCancelled: Bool { state.load(ordering: .acquiring) }
}
