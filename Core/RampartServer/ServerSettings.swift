import CRampartSystem
import NIOCore

/// Transport and request limits of a running server (mapped from the config file by the CLI).
public struct ServerSettings: Sendable, Hashable {
    /// Unix socket path.
    public var socketPath: String
    /// Permission bits of the socket file: 0o600, or 0o660 with `socketGroup`.
    public var socketMode: UInt32 = 0o600
    /// Group that owns the socket (name or numeric gid) when `socketMode` is 0o660.
    public var socketGroup: String?
    public var maxFrameSize: Int = 4 << 20
    public var maxConcurrentStreams: Int = 100
    /// A partial frame (or preface) must complete within this many milliseconds.
    public var readTimeoutMillis: Int64 = 10_000
    /// Connections with no open stream and no traffic are closed after this many milliseconds.
    public var idleTimeoutMillis: Int64 = 300_000
    /// Longest graceful drain before remaining connections are closed.
    public var drainTimeoutMillis: Int64 = 30_000
    public var eventLoopThreads: Int = 1
    public var workerThreads: Int = 2
    public var lz4: Bool = true
    public var lz4Threshold: Int = 1024
    /// Answers written per flush while the server works through the requests that arrived in
    /// one read: 0 sends them all in one flush when the read is done; N flushes after every N
    /// answers, so that a client on another CPU starts on the first ones while the rest are
    /// computed. Answers produced outside a read are always flushed at once.
    public var flushEvery: Int = ServerSettings.automaticFlushEvery
    public var limits = RequestLimits()

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// `flush_every = "auto"`: 2 when this process may run on two or more CPUs, else 0.
    ///
    /// Measured with 16 calls in flight on one connection (docs/BENCHMARKS.md, session 13): on
    /// two vCPUs, flushing every 2 answers made the server 1.3–2.9 × faster for multiplexing
    /// clients; with the server and its clients on one vCPU, where nothing can overlap, it made
    /// it 18–51 % slower (each flush is a system call and a context switch).
    public static let automaticFlushEvery: Int = usableCPUs >= 2 ? 2 : 0

    /// CPUs this process may use: its affinity mask (`taskset`, cpusets) and NIO's count, which
    /// also honours cgroup CPU quotas; the smaller of the two.
    public static var usableCPUs: Int {
        let affinity = Int(rampart_allowed_cpus())
        return affinity > 0 ? min(affinity, System.coreCount) : System.coreCount
    }
}

/// Per-request limits checked before any backend work.
public struct RequestLimits: Sendable, Hashable {
    /// Largest `max_tokens` a request may ask for.
    public var maxTokens: Int = 2048
    /// Used when a request leaves `max_tokens` at 0.
    public var defaultMaxTokens: Int = 128
    /// Total UTF-8 bytes of the prompt or all chat messages.
    public var maxPromptBytes: Int = 1 << 20
    /// Most chat messages in one request.
    public var maxMessages: Int = 256

    public init() {}
}
