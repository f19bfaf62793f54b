import NIOCore
import Synchronization

/// Runs Swift tasks on a NIO event loop.
///
/// A task that prefers the event loop of a ``RampartClient``'s connection
/// (`withTaskExecutorPreference(client.taskExecutor) { … }`) makes its calls without a thread
/// hop: the request is queued for the write on the same thread, and the answer resumes the task
/// there instead of waking a thread of the global pool. Code run this way shares the thread with
/// the connection's I/O, so it must not block.
///
/// Once closed (``RampartClient/close()`` closes its executor before stopping its event loop), jobs
/// go to the global concurrent executor: a task that still prefers this executor keeps running (its
/// calls fail with UNAVAILABLE) instead of waiting forever for a loop that is gone.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The event loop jobs run on.
    public let eventLoop: any EventLoop
    private let open = Atomic<Bool>(true)

    /// An executor for `eventLoop`. Close it before that loop shuts down.
    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `job` on the event loop (on the global concurrent executor once closed).
    public func enqueue(_ job: consuming ExecutorJob) {
        guard open.load(ordering: .acquiring) else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }

    /// From now on, jobs run on the global concurrent executor.
    public func close() {
        open.store(false, ordering: .releasing)
    }
}
