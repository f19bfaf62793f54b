import Foundation
import RampartChain

#if canImport(Glibc)
import Glibc
#endif

/// A running `rampart plugin-host` process and the parent's end of its socketpair.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let channel: FrameChannel
    private let lock = NSLock()
    private var exit: String?

    init(pid: pid_t, channel: FrameChannel) {
        self.pid = pid
        self.channel = channel
    }

    /// How the process ended, once reaped.
    var exitDescription: String? { lock.withLock { exit } }

    /// SIGKILLs (unless `grace` lets it exit first: it is exiting already, e.g. after EOF), reaps,
    /// closes the socket, and describes how the process ended. Idempotent.
    @discardableResult
    func kill(grace: Duration = .zero) -> String {
        lock.withLock {
            if let exit { return exit }
            let graceNanos = UInt64(max(0, grace.components.seconds)) * 1_000_000_000
                + UInt64(max(0, grace.components.attoseconds)) / 1_000_000_000
            let giveUp = monotonicNanos() + graceNanos
            var status: Int32 = 0
            var reaped = false
            while graceNanos > 0 {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { reaped = true; break }
                if r < 0, errno != EINTR { break }
                if monotonicNanos() >= giveUp { break }
                usleep(1_000)
            }
            if !reaped {
                _ = Glibc.kill(pid, SIGKILL)
                while true {
                    let r = waitpid(pid, &status, 0)
                    if r == pid { reaped = true; break }
                    if r < 0, errno == EINTR { continue }
                    break  // ECHILD: someone else reaped it (should not happen)
                }
            }
            channel.close()
            let description = reaped ? Self.describe(status: status) : "ended (already reaped elsewhere)"
            exit = description
            return description
        }
    }

    /// Closes the socket so the child sees EOF and destroys the plugin, waits up to `grace`,
    /// then kills. Runs in the background: never blocks the caller.
    func terminate(grace: Duration) {
        channel.close()
        let child = self
        DispatchQueue.global(qos: .utility).async {
            child.kill(grace: grace)
        }
    }

    /// `exited with status 3`, `killed by signal 11 (SIGSEGV)`.
    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGBUS: "SIGBUS", SIGILL: "SIGILL",
            SIGFPE: "SIGFPE", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGPIPE: "SIGPIPE", SIGTRAP: "SIGTRAP",
            SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU", SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT",
        ]
        return "killed by signal \(signal) (\(names[signal] ?? "signal \(signal)"))" + (status & 0x80 != 0 ? ", core dumped" : "")
    }
}

/// Spawns plugin processes from one thread that lives as long as the process.
///
/// The child asks for `PR_SET_PDEATHSIG`, which Linux fires when the *thread* that created it
/// exits, not the process. Workers and dispatch threads come and go; this one does not, so a
/// child dies with the sidecar and only then.
final class Spawner: @unchecked Sendable {
    static let shared = Spawner()

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "rampart-plugin-spawner"
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop() -> Never {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the spawner thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        condition.lock()
        jobs.append {
            box.value = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }

    /// Starts `executable arguments…` with one end of a fresh socketpair as its fd 3, stdin on
    /// /dev/null, stdout/stderr shared with the sidecar, default signal dispositions and an empty
    /// signal mask, and every other descriptor closed. Returns the pid and the parent's end
    /// (non-blocking, close-on-exec).
    func spawn(executable: String, arguments: [String]) throws(ChannelFailure) -> ChildProcess {
        let result = run { () -> Result<ChildProcess, ChannelFailure> in
            do throws(ChannelFailure) {
                return .success(try Self.spawnHere(executable: executable, arguments: arguments))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// glibc ≥ 2.34's `posix_spawn_file_actions_addclosefrom_np` (Swift's Glibc module does not
    /// export it; looked up once, absent on older libcs where close-on-exec alone applies).
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()

    private static func spawnHere(executable: String, arguments: [String]) throws(ChannelFailure) -> ChildProcess {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .io("socketpair: \(String(cString: strerror(errno)))")
        }
        let parentEnd = fds[0]
        var childEnd = fds[1]
        // dup2(3, 3) would keep close-on-exec set: move the child's end off 3 first.
        if childEnd == 3 {
            let moved = fcntl(childEnd, F_DUPFD_CLOEXEC, 4)
            _ = close(childEnd)
            childEnd = moved
        }
        defer { _ = close(childEnd) }
        guard childEnd >= 0 else {
            _ = close(parentEnd)
            throw .io("fcntl: \(String(cString: strerror(errno)))")
        }
        // Non-blocking on the parent's end only (O_NONBLOCK lives on the open file description,
        // which dup2 would share with the child's fd 3; the two ends are separate descriptions).
        _ = fcntl(parentEnd, F_SETFL, fcntl(parentEnd, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, childEnd, 3)
        // Everything the sidecar opened without O_CLOEXEC (libraries do) stays out of the child.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 4) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            _ = close(parentEnd)
            throw .io("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid, channel: FrameChannel(fd: parentEnd))
    }
}
