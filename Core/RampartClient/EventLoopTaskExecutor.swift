import NIOCore

/// Runs Swift tasks on a NIO event loop.
///
/// A task that prefers the event loop of a ``RampartClient``'s connection
/// (`withTaskExecutorPreference(client.taskExecutor) { … }`) makes its calls without a thread
/// hop: the request is queued for the write on the same thread, and the answer resumes the task
/// there instead of waking a thread of the global pool. Code run this way shares the thread with
/// the connection's I/O, so it must not block.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The event loop jobs run on.
    public let eventLoop: any EventLoop

    /// An executor for `eventLoop`.
    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
