import Foundation
import RampartChain
import RampartCrypto
import RampartProto
import SwiftProtobuf
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How the plugin process trusts the plugin directory (it verifies again: defence in depth).
public enum IsolatedTrust: Sendable, Hashable {
    /// `--allow-unsigned` (development only, like ``PluginTrust/unsignedDevelopment``).
    case unsignedDevelopment
    /// `--trusted-key FILE` for each trusted public key (PEM).
    case trustedKeys([String])
}

/// How isolated plugin processes are started and restarted.
public struct IsolationOptions: Sendable {
    /// The `rampart` executable that has the `plugin-host` subcommand (the CLI: itself).
    public var executable: String
    public var trust: IsolatedTrust
    /// The child's plugin cache (content-addressed copies; sharing the sidecar's is safe).
    public var cacheDirectory: String
    /// Longest a start (spawn, verify, load, create) may take.
    public var startupTimeout: Duration
    /// Delay before the first restart after a failure; doubles per consecutive failure.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// How long a stopping child may take to destroy its plugin before it is killed.
    public var shutdownGrace: Duration

    public init(executable: String = "/proc/self/exe", trust: IsolatedTrust, cacheDirectory: String,
                startupTimeout: Duration = .seconds(10), initialBackoff: Duration = .milliseconds(50),
                maxBackoff: Duration = .seconds(5), shutdownGrace: Duration = .seconds(1)) {
        self.executable = executable
        self.trust = trust
        self.cacheDirectory = cacheDirectory
        self.startupTimeout = startupTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.shutdownGrace = shutdownGrace
    }
}

/// A plugin that runs in a child process (`isolation = "process"`): `rampart plugin-host` loads
/// it with the same ``PluginLoader`` and ``NativePlugin`` and answers the messages of
/// proto/rampart/v1/isolation.proto over a socketpair.
///
/// A crash, a hang past the stage timeout, or garbage on the wire ends the child (SIGKILL,
/// reaped) and fails the call in flight (``PluginError/crashed(plugin:reason:)`` or
/// ``PluginError/timeout(plugin:hook:limitMillis:)``; the stage's failure mode applies). The
/// child is restarted in the background after a backoff (50 ms doubling to 5 s by default;
/// reset by the first successful call); until it is back, calls fail immediately.
///
/// Calls into one child are serialized. The logits hook is not supported (one round trip per
/// generated token): a plugin that declares it is refused at start.
public final class IsolatedPlugin: ChainPlugin, @unchecked Sendable {
    public let name: String
    public let hooks: ChainHooks
    /// What the child reported about the plugin at the first start.
    public let info: PluginInfo
    /// SHA-256 (hex) of the library every start must load.
    public let digest: String
    /// Longest one hook call may take, queueing for the child included.
    public let timeout: Duration

    let directory: String
    let library: String
    let config: [UInt8]
    let options: IsolationOptions
    let log: @Sendable (PluginLogLevel, String) -> Void
    let perCallState: Bool

    /// Serializes exchanges with the child; the holder owns the child's channel.
    private let channelLock = NSLock()
    private let state: Mutex<State>
    private let streamIDs = Atomic<UInt64>(0)

    private struct State {
        var phase: Phase
        /// Increases each time a new child becomes ready; per-call state dies with a child.
        var generation: UInt64 = 1
        var restarts = 0
        var consecutiveFailures = 0
        var lastFailure = ""
        var nextCallID: UInt64 = 2
        /// Streams closed while the channel was busy, freed in the child on the next exchange.
        var pendingCloses: [UInt64] = []
    }

    private enum Phase {
        case running(ChildProcess)
        /// Waiting for the backoff (`restartAt`, monotonic ns) or starting.
        case restarting(restartAt: UInt64)
        case stopped
    }

    /// Starts the child and waits until the plugin is created. Throws the child's own error
    /// (e.g. the loader's ``PluginError/cannotOpen(plugin:reason:)`` or the plugin's
    /// ``PluginError/createFailed(plugin:status:message:)``) or a precise startup failure.
    ///
    /// - Parameters:
    ///   - expectedDigest: the SHA-256 (hex) of the library the caller verified; the child
    ///     refuses any other file. Empty: whatever the child's own verification accepts.
    ///   - timeout: the stage timeout, applied to every hook call.
    public init(name: String, directory: String, library: String, config: [UInt8], expectedDigest: String = "",
                timeout: Duration, options: IsolationOptions,
                log: @escaping @Sendable (PluginLogLevel, String) -> Void) throws(PluginError) {
        self.name = name
        self.directory = directory
        self.library = library
        self.config = config
        self.options = options
        self.log = log
        self.timeout = timeout
        let (child, ready) = try Self.start(name: name, directory: directory, library: library, config: config,
                                            expectedDigest: expectedDigest, options: options, log: log)
        let capabilities = PluginCapabilities(rawValue: ready.capabilities)
        self.info = PluginInfo(name: ready.name, version: ready.version, abiMinor: UInt16(clamping: ready.abiMinor),
                               capabilities: capabilities, methods: [])
        self.digest = ready.digest
        self.perCallState = ready.perCallState
        var hooks: ChainHooks = []
        if capabilities.contains(.request) { hooks.insert(.request) }
        if capabilities.contains(.response) { hooks.insert(.response) }
        if capabilities.contains(.chunk) { hooks.insert(.chunk) }
        if capabilities.contains(.streamEnd) { hooks.insert(.streamEnd) }
        self.hooks = hooks
        self.state = Mutex(State(phase: .running(child)))
    }

    deinit {
        // No call can be in flight: every stream holds the plugin.
        let phase = state.withLock { s in
            defer { s.phase = .stopped }
            return s.phase
        }
        if case .running(let child) = phase { child.terminate(grace: options.shutdownGrace) }
    }

    /// Stops the child (it destroys the plugin; killed after the shutdown grace). Calls fail
    /// from now on. Waits for a call in flight to finish first.
    public func shutdown() {
        channelLock.lock()
        defer { channelLock.unlock() }
        let phase = state.withLock { s in
            defer { s.phase = .stopped }
            return s.phase
        }
        if case .running(let child) = phase { child.terminate(grace: options.shutdownGrace) }
    }

    // MARK: - observability

    /// A consistent view of the child's lifecycle.
    public struct Status: Sendable, Hashable {
        /// The child's pid while it is running.
        public var pid: pid_t?
        /// Successful restarts since the first start.
        public var restarts: Int
        /// Failures since the last successful call (drives the backoff).
        public var consecutiveFailures: Int
        /// Why the latest child ended.
        public var lastFailure: String
        public var stopped: Bool
    }

    public var status: Status {
        state.withLock { s in
            var pid: pid_t?
            if case .running(let child) = s.phase { pid = child.pid }
            var stopped = false
            if case .stopped = s.phase { stopped = true }
            return Status(pid: pid, restarts: s.restarts, consecutiveFailures: s.consecutiveFailures,
                          lastFailure: s.lastFailure, stopped: stopped)
        }
    }

    // MARK: - ChainPlugin

    /// ABI 1.1 `RP_CAP_ALL_METHODS`. (Audit events of isolated plugins are not forwarded yet.)
    public var seesAllMethods: Bool { info.capabilities.contains(.allMethods) }

    public func openStream(_ environment: ChainEnvironment) throws -> any ChainPluginStream {
        // No I/O here: the child opens the stream with its first hook call.
        IsolatedStream(plugin: self, id: perCallState ? streamIDs.add(1, ordering: .relaxed).newValue : 0)
    }

    // MARK: - calls

    /// One request/reply exchange, with the deadline covering the wait for the channel too.
    func call(_ hook: Rampart_V1_IsolatedHook, stream: IsolatedStream, input: [UInt8]) throws(PluginError) -> Rampart_V1_IsolatedReply {
        let hookName = Self.hookName(hook)
        let deadline = Self.deadline(after: timeout)
        guard channelLock.lock(before: Date(timeIntervalSinceNow: Double(Self.nanos(timeout)) / 1e9)) else {
            throw .timeout(plugin: name, hook: hookName, limitMillis: Self.millis(timeout))
        }
        defer { channelLock.unlock() }

        let (child, generation, callID, closes) = try state.withLock { s throws(PluginError) in
            switch s.phase {
            case .running(let child):
                if perCallState {
                    // Per-call state lives in one child: a call that began in a child that has
                    // since died cannot continue with fresh state (that would reset what the
                    // plugin tracked about it, e.g. a running total across chunks).
                    if stream.generation == 0 { stream.generation = s.generation }
                    if stream.generation != s.generation {
                        throw .crashed(plugin: name, reason: "the plugin process restarted during this call; its per-call state is gone")
                    }
                }
                let id = s.nextCallID
                s.nextCallID += 1
                let closes = s.pendingCloses
                s.pendingCloses.removeAll()
                return (child, s.generation, id, closes)
            case .restarting(let restartAt):
                let now = monotonicNanos()
                let wait = restartAt > now ? "restarting in \((restartAt - now) / 1_000_000) ms" : "restarting now"
                throw .crashed(plugin: name, reason: "the plugin process is down (\(wait)); it ended: \(s.lastFailure)")
            case .stopped:
                throw .crashed(plugin: name, reason: "the plugin was shut down")
            }
        }

        var message = Rampart_V1_IsolatedCall()
        message.id = callID
        var hookCall = Rampart_V1_IsolatedHookCall()
        hookCall.stream = stream.id
        hookCall.hook = hook
        hookCall.input = Data(input)
        message.call = .hook(hookCall)
        var bytes: [UInt8] = []
        do throws(ChannelFailure) {
            for id in closes { bytes += try Self.closeFrame(id) }
            bytes += try IsolationWire.frame(message)
        } catch {
            throw .hookFailed(plugin: name, hook: hookName, status: -1, message: "cannot send the input to the plugin process: \(error)")
        }

        let reply: Rampart_V1_IsolatedReply
        do throws(ChannelFailure) {
            try child.channel.write(bytes, deadline: deadline)
            reply = try receive(from: child, callID: callID, deadline: deadline)
        } catch {
            var timedOut = false
            var eof = false
            if case .timedOut = error { timedOut = true }
            if case .closed = error { eof = true }
            // After EOF the child is exiting by itself: give it a moment so that its own end
            // (e.g. SIGSEGV) is what gets reported. Otherwise it is alive and misbehaving.
            let exit = child.kill(grace: eof ? .milliseconds(200) : .zero)
            let reason = switch error {
            case .timedOut: "plugin process (pid \(child.pid)) \(exit): \(hookName) exceeded its timeout of \(Self.millis(timeout)) ms"
            case .closed: "plugin process (pid \(child.pid)) \(exit) during \(hookName)"
            default: "plugin process (pid \(child.pid)) \(exit): \(error) during \(hookName)"
            }
            childFailed(child, generation: generation, reason: reason)
            if timedOut { throw .timeout(plugin: name, hook: hookName, limitMillis: Self.millis(timeout)) }
            throw .crashed(plugin: name, reason: reason)
        }
        // The child answered: it is healthy, whatever the plugin said.
        state.withLock { $0.consecutiveFailures = 0 }
        if case .error(let error)? = reply.result { throw PluginError(wire: error) }
        return reply
    }

    /// Reads until the reply to `callID`, passing the child's log lines on.
    private func receive(from child: ChildProcess, callID: UInt64, deadline: UInt64) throws(ChannelFailure) -> Rampart_V1_IsolatedReply {
        while true {
            let reply = try child.channel.read(Rampart_V1_IsolatedReply.self, deadline: deadline)
            if case .log(let line)? = reply.result, reply.id == 0 {
                log(PluginLogLevel(rawValue: line.level) ?? .info, line.message)
                continue
            }
            guard reply.id == callID else {
                throw .garbage("a reply to call \(reply.id) while call \(callID) was waiting")
            }
            switch reply.result {
            case .verdict?, .chunk?, .done?:
                return reply
            case .error(let error)?:
                // An error report that does not decode means the child is broken.
                if case .crashed = PluginError(wire: error) { throw .garbage("an unreadable error report (\(error.kind))") }
                return reply
            default:
                throw .garbage("an unexpected reply: \(reply.textFormatString().prefix(200))")
            }
        }
    }

    /// Frees a stream in the child: now when the channel is free, else on the next exchange.
    func close(_ stream: IsolatedStream) {
        guard perCallState, stream.generation != 0 else { return }  // never opened in a child
        guard channelLock.try() else {
            state.withLock { s in if s.generation == stream.generation { s.pendingCloses.append(stream.id) } }
            return
        }
        defer { channelLock.unlock() }
        let target: (ChildProcess, UInt64)? = state.withLock { s in
            guard case .running(let child) = s.phase, s.generation == stream.generation else { return nil }
            return (child, s.generation)
        }
        guard let (child, generation) = target else { return }
        do throws(ChannelFailure) {
            try child.channel.write(try Self.closeFrame(stream.id), deadline: Self.deadline(after: timeout))
        } catch {
            let exit = child.kill(grace: .milliseconds(200))
            childFailed(child, generation: generation,
                        reason: "plugin process (pid \(child.pid)) \(exit): \(error) while closing a stream")
        }
    }

    private static func closeFrame(_ id: UInt64) throws(ChannelFailure) -> [UInt8] {
        var close = Rampart_V1_IsolatedCall()
        var body = Rampart_V1_IsolatedCloseStream()
        body.stream = id
        close.call = .closeStream(body)
        return try IsolationWire.frame(close)
    }

    // MARK: - restarts

    /// Records a dead child and schedules its replacement.
    private func childFailed(_ child: ChildProcess, generation: UInt64, reason: String) {
        let delay: Duration? = state.withLock { s in
            guard case .running(let current) = s.phase, current === child, s.generation == generation else { return nil }
            s.consecutiveFailures += 1
            s.lastFailure = reason
            s.pendingCloses.removeAll()
            let delay = backoff(after: s.consecutiveFailures)
            s.phase = .restarting(restartAt: Self.deadline(after: delay))
            return delay
        }
        guard let delay else { return }
        log(.error, "isolated: \(reason); restarting in \(Self.millis(delay)) ms")
        scheduleRestart(after: delay)
    }

    /// 50 ms, 100 ms, 200 ms … capped (with the default options).
    private func backoff(after failures: Int) -> Duration {
        let shift = min(max(failures - 1, 0), 30)
        let nanos = min(Self.nanos(options.initialBackoff) << UInt64(shift), Self.nanos(options.maxBackoff))
        return .nanoseconds(Int64(clamping: nanos))
    }

    private func scheduleRestart(after delay: Duration) {
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: Self.nanos(delay)))) {
            [weak self] in self?.restart()
        }
    }

    private func restart() {
        guard case .restarting = state.withLock({ $0.phase }) else { return }
        do throws(PluginError) {
            let (child, ready) = try Self.start(name: name, directory: directory, library: library, config: config,
                                                expectedDigest: digest, options: options, log: log)
            guard ready.capabilities == info.capabilities.rawValue, ready.perCallState == perCallState else {
                child.terminate(grace: .zero)
                throw .malformedDescriptor(plugin: name, reason: "the restarted plugin reports different capabilities")
            }
            let installed = state.withLock { s in
                guard case .restarting = s.phase else { return false }
                s.phase = .running(child)
                s.generation += 1
                s.restarts += 1
                s.pendingCloses.removeAll()  // streams of the dead child
                return true
            }
            if installed {
                log(.warning, "isolated: restarted the plugin process (pid \(child.pid))")
            } else {
                child.terminate(grace: options.shutdownGrace)  // shut down meanwhile
            }
        } catch {
            let delay: Duration? = state.withLock { s in
                guard case .restarting = s.phase else { return nil }
                s.consecutiveFailures += 1
                s.lastFailure = "restart failed: \(error)"
                let delay = backoff(after: s.consecutiveFailures)
                s.phase = .restarting(restartAt: Self.deadline(after: delay))
                return delay
            }
            guard let delay else { return }
            log(.error, "isolated: restart failed: \(error); next attempt in \(Self.millis(delay)) ms")
            scheduleRestart(after: delay)
        }
    }

    // MARK: - start

    /// Spawns `plugin-host`, sends the hello, and waits for the plugin to be ready.
    private static func start(name: String, directory: String, library: String, config: [UInt8], expectedDigest: String,
                              options: IsolationOptions, log: @Sendable (PluginLogLevel, String) -> Void)
        throws(PluginError) -> (ChildProcess, Rampart_V1_IsolatedReady)
    {
        var arguments = ["plugin-host", "--fd", "3", "--directory", directory, "--library", library, "--name", name,
                         "--cache-directory", options.cacheDirectory, "--parent-pid", String(getpid())]
        switch options.trust {
        case .unsignedDevelopment: arguments.append("--allow-unsigned")
        case .trustedKeys(let keys):
            guard !keys.isEmpty else { throw .untrusted(plugin: name, reason: "no trusted keys for the plugin process") }
            for key in keys { arguments += ["--trusted-key", key] }
        }
        let child: ChildProcess
        do {
            child = try Spawner.shared.spawn(executable: options.executable, arguments: arguments)
        } catch {
            throw .cannotOpen(plugin: name, reason: "\(error)")
        }
        let readyBy = Self.deadline(after: options.startupTimeout)
        var hello = Rampart_V1_IsolatedCall()
        hello.id = 1
        var body = Rampart_V1_IsolatedHello()
        body.config = Data(config)
        body.expectedDigest = expectedDigest
        hello.call = .hello(body)
        // The child's own verdict on the plugin (nil: it is ready) or a failure of the exchange.
        var reported: PluginError?
        do throws(ChannelFailure) {
            try child.channel.write(try IsolationWire.frame(hello), deadline: readyBy)
            answer: while true {
                let reply = try child.channel.read(Rampart_V1_IsolatedReply.self, deadline: readyBy)
                switch reply.result {
                case .log(let line)? where reply.id == 0:
                    log(PluginLogLevel(rawValue: line.level) ?? .info, line.message)
                case .ready(let ready)? where reply.id == 1:
                    let capabilities = PluginCapabilities(rawValue: ready.capabilities)
                    guard capabilities.isSubset(of: .known), !capabilities.contains(.logits) else {
                        throw .garbage("capabilities 0x\(String(ready.capabilities, radix: 16)) are not allowed")
                    }
                    return (child, ready)
                case .error(let error)? where reply.id == 1:
                    reported = PluginError(wire: error)
                    break answer
                default:
                    throw .garbage("unexpected answer to the hello: \(reply.textFormatString().prefix(200))")
                }
            }
        } catch {
            let timedOut: Bool
            if case .timedOut = error { timedOut = true } else { timedOut = false }
            let exit = child.kill(grace: timedOut ? .zero : .milliseconds(500))
            let what = timedOut ? "was not ready within \(millis(options.startupTimeout)) ms" : "failed to start: \(error)"
            throw .crashed(plugin: name, reason: "plugin process (pid \(child.pid), \(options.executable) plugin-host) \(what) (\(exit))")
        }
        // The child exits after reporting; reap it.
        child.kill(grace: .milliseconds(500))
        throw reported ?? .crashed(plugin: name, reason: "the plugin process ended the handshake without an answer")
    }

    // MARK: - helpers

    static func hookName(_ hook: Rampart_V1_IsolatedHook) -> String {
        switch hook {
        case .request: "on_request"
        case .response: "on_response"
        case .chunk: "on_chunk"
        case .streamEnd: "on_stream_end"
        case .unspecified, .UNRECOGNIZED: "unknown hook"
        }
    }

    /// A duration in nanoseconds, saturating (negative: 0).
    static func nanos(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        guard UInt64(seconds) < UInt64.max / 1_000_000_000 - 1 else { return .max }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// The monotonic time `duration` from now, saturating.
    static func deadline(after duration: Duration) -> UInt64 {
        let (sum, overflow) = monotonicNanos().addingReportingOverflow(nanos(duration))
        return overflow ? .max : sum
    }

    static func millis(_ duration: Duration) -> Int {
        Int(clamping: (nanos(duration) + 500_000) / 1_000_000)
    }
}

/// One call's view of an isolated plugin. `id` 0: the plugin keeps no per-call state.
final class IsolatedStream: ChainPluginStream {
    let plugin: IsolatedPlugin
    let id: UInt64
    /// The child generation the stream lives in (0: not opened in any child yet). Written
    /// under the plugin's state lock; the chain serializes calls on one stream.
    var generation: UInt64 = 0
    private var closed = false

    init(plugin: IsolatedPlugin, id: UInt64) {
        self.plugin = plugin
        self.id = id
    }

    func onRequest(_ input: HookInput) throws -> Rampart_V1_Verdict {
        try verdict(plugin.call(.request, stream: self, input: input.encodedBytes()), "on_request")
    }

    func onResponse(_ input: HookInput) throws -> Rampart_V1_Verdict {
        try verdict(plugin.call(.response, stream: self, input: input.encodedBytes()), "on_response")
    }

    func onChunk(_ text: String) throws -> ChunkDecision {
        let reply = try plugin.call(.chunk, stream: self, input: Array(text.utf8))
        guard case .chunk(let chunk)? = reply.result else { throw unexpected(reply, "on_chunk") }
        switch chunk.action {
        case .pass: return .pass
        case .replace: return .replace(chunk.text)
        case .stop: return .stop
        case .UNRECOGNIZED(let value):
            throw PluginError.malformedVerdict(plugin: plugin.name, hook: "on_chunk", reason: "unknown chunk action \(value)")
        }
    }

    func onLogits(_ logits: UnsafeMutableBufferPointer<Float>, previous: UnsafeBufferPointer<Int32>) throws {
        // Never called: the hook is not in `hooks` (refused at start).
        throw PluginError.hookFailed(plugin: plugin.name, hook: "on_logits", status: -1,
                                     message: "the logits hook is not available with process isolation")
    }

    func onStreamEnd(_ input: HookInput) throws {
        let reply = try plugin.call(.streamEnd, stream: self, input: input.encodedBytes())
        guard case .done? = reply.result else { throw unexpected(reply, "on_stream_end") }
    }

    func close() {
        guard !closed else { return }
        closed = true
        plugin.close(self)
    }

    deinit { close() }

    private func verdict(_ reply: Rampart_V1_IsolatedReply, _ hook: String) throws -> Rampart_V1_Verdict {
        guard case .verdict(let verdict)? = reply.result else { throw unexpected(reply, hook) }
        return verdict
    }

    private func unexpected(_ reply: Rampart_V1_IsolatedReply, _ hook: String) -> PluginError {
        .malformedVerdict(plugin: plugin.name, hook: hook, reason: "the plugin process answered with \(reply.textFormatString().prefix(200))")
    }
}

// MARK: - verification in the parent

extension IsolatedPlugin {
    /// What the parent checks before it spawns anything: the directory verifies under `loader`'s
    /// trust and covers `library`. Returns the library's SHA-256 (hex), which the child must
    /// load. Nothing is mapped into the sidecar.
    public static func verify(loader: PluginLoader, directory: String, library: String, name: String) throws(PluginError) -> String {
        try loader.verifiedBytes(directory: directory, library: library, name: name).1
    }
}
