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

/// Generates request ids: `r`, five base-32 digits of a per-process random prefix, then the
/// call counter in nine base-32 digits (`r5k2qv00000001a`).
///
/// Fifteen ASCII bytes, so that the id is a small string: making it costs no allocation and
/// copying it no reference count (it runs on every call). The counter is unique for 2⁴⁵ calls
/// (over a year at a million calls a second); the prefix tells restarts apart.
public final class RequestIDGenerator: Sendable {
    /// `r` and the five prefix digits.
    private let prefix: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    private let counter = Atomic<UInt64>(0)

    /// Lowercase base-32 digits (`0-9a-v`).
    @inline(__always)
    private static func digit(_ value: UInt64) -> UInt8 {
        let v = UInt8(truncatingIfNeeded: value & 31)
        return v < 10 ? 0x30 &+ v : 0x57 &+ v
    }

    public init() {
        let random = UInt64.random(in: 0 ..< (1 << 25))
        prefix = (0x72, Self.digit(random >> 20), Self.digit(random >> 15), Self.digit(random >> 10),
                  Self.digit(random >> 5), Self.digit(random))
    }

    /// The next id.
    public func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        // 15 bytes: String keeps them inline (no heap storage).
        return String(unsafeUninitializedCapacity: 15) { buffer in
            buffer[0] = prefix.0
            buffer[1] = prefix.1
            buffer[2] = prefix.2
            buffer[3] = prefix.3
            buffer[4] = prefix.4
            buffer[5] = prefix.5
            var value = n
            for index in stride(from: 14, through: 6, by: -1) {
                buffer[index] = Self.digit(value)
                value >>= 5
            }
            return 15
        }
    }
}
