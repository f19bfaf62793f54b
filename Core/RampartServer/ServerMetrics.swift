import Synchronization

/// Live counters of a server (connections, streams), shared by all event loops.
public final class ServerMetrics: Sendable {
    private let openConnections = Atomic<Int>(0)
    private let activeStreams = Atomic<Int>(0)
    private let totalStreams = Atomic<Int>(0)
    private let refusedStreams = Atomic<Int>(0)

    public init() {}

    public var connections: Int { openConnections.load(ordering: .relaxed) }
    public var streams: Int { activeStreams.load(ordering: .relaxed) }
    public var streamsTotal: Int { totalStreams.load(ordering: .relaxed) }
    public var streamsRefused: Int { refusedStreams.load(ordering: .relaxed) }

    func connectionOpened() { openConnections.add(1, ordering: .relaxed) }
    func connectionClosed() { openConnections.subtract(1, ordering: .relaxed) }
    func streamOpened() {
        activeStreams.add(1, ordering: .relaxed)
        totalStreams.add(1, ordering: .relaxed)
    }
    func streamsEnded(_ n: Int) { if n > 0 { activeStreams.subtract(n, ordering: .relaxed) } }
    func refused() { refusedStreams.add(1, ordering: .relaxed) }
}
