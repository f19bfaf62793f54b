import NIOConcurrencyHelpers
import NIOCore
import RampartProto

/// Calls waiting for the connection's event loop to put them on the wire.
///
/// Callers append under a lock; only the one that finds the queue empty schedules a drain. Calls
/// started together (many tasks sharing one connection) so cost one event-loop hop and leave in
/// one write, and a lone call costs what it did before: one hop.
final class PendingStarts: Sendable {
    /// One call to open.
    struct Start: Sendable {
        let call: ClientCall
        let headers: Rampart_V1_RequestHeaders
        let payload: ByteBuffer
    }

    private let queue = NIOLockedValueBox<[Start]>([])

    /// Queues a call; true when the caller must schedule ``take()`` on the event loop.
    func append(_ start: Start) -> Bool {
        queue.withLockedValue { queue in
            queue.append(start)
            return queue.count == 1
        }
    }

    /// Everything queued, in order; the queue is empty afterwards.
    func take() -> [Start] {
        queue.withLockedValue { queue in
            defer { queue = [] }
            return queue
        }
    }
}
