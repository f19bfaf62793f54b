import Foundation
import RampartChain
import RampartCore
@testable import RampartPluginHost
import RampartProto
import Synchronization
import XCTest

/// `isolation = "process"`: the C fixture plugin (Fixtures/test_plugin.c) in a `rampart
/// plugin-host` child, driven through a real `PluginChain`.
///
/// Needs the `rampart` executable next to the test bundle (`swift build --build-tests` builds
/// it) or at `$RAMPART_EXECUTABLE`.
final class IsolationTests: XCTestCase {
    /// The status a closed stage's failure ends the call with: crashes and timeouts of an
    /// isolated plugin are UNAVAILABLE (``PluginError`` is `StatusCodeConvertible`).
    static let failureCode: StatusCode = .unavailable

    let context = CallContext(requestID: "r-iso", method: "/rampart.v1.Inference/Generate", streamID: 1,
                              peer: PeerCredentials(pid: 1, uid: 2, gid: 3))

    // MARK: - helpers

    static var rampartExecutable: String {
        if let path = ProcessInfo.processInfo.environment["RAMPART_EXECUTABLE"] { return path }
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("rampart").path
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.rampartExecutable) else {
            throw NSError(domain: "no rampart executable at \(Self.rampartExecutable): run `swift build --build-tests` first", code: 1)
        }
    }

    /// Collects the plugin's log lines (forwarded from the child).
    final class LogSink: Sendable {
        private let lines = Mutex<[(PluginLogLevel, String)]>([])
        var all: [(PluginLogLevel, String)] { lines.withLock { $0 } }
        var handler: @Sendable (PluginLogLevel, String) -> Void { { level, message in self.lines.withLock { $0.append((level, message)) } } }
    }

    func options(initialBackoff: Duration = .milliseconds(50), startupTimeout: Duration = .seconds(20),
                 executable: String = IsolationTests.rampartExecutable) -> IsolationOptions {
        IsolationOptions(executable: executable, trust: .unsignedDevelopment,
                         cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", startupTimeout: startupTimeout,
                         initialBackoff: initialBackoff, maxBackoff: .seconds(5), shutdownGrace: .milliseconds(500))
    }

    /// An isolated fixture plugin with the given -D flags.
    func isolated(_ defines: [String] = [], name: String = "iso", config: String = "", timeout: Duration = .seconds(2),
                  options: IsolationOptions? = nil, log: LogSink = LogSink(), shutDownAfterTest: Bool = true) throws -> IsolatedPlugin {
        let fixture = try buildFixture(defines)
        let plugin = try IsolatedPlugin(name: name, directory: fixture.directory, library: fixture.library,
                                        config: Array(config.utf8), timeout: timeout, options: options ?? self.options(),
                                        log: log.handler)
        if shutDownAfterTest { addTeardownBlock { plugin.shutdown() } }
        return plugin
    }

    func chain(_ plugin: IsolatedPlugin, _ mode: FailureMode = .closed, timeout: Duration = .seconds(2)) -> PluginChain {
        do {
            return try PluginChain(stages: [ChainStage(plugin: plugin, policy: StagePolicy(failureMode: mode, timeout: timeout))], holdBackBytes: 0)
        } catch {
            XCTFail("\(error)")
            return .empty
        }
    }

    /// Runs the request hooks on `prompt`; returns the (possibly mutated) prompt or the error.
    func request(_ chain: PluginChain, _ prompt: String) -> Result<String, RPCError> {
        var r = Rampart_V1_GenerateRequest()
        r.prompt = prompt
        var metadata: [String: String] = [:]
        let call = chain.begin(context)
        defer { call.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0) }
        do throws(RPCError) {
            try call.onRequest(&r, metadata: &metadata)
            return .success(r.prompt)
        } catch {
            return .failure(error)
        }
    }

    func expectFailure(_ result: Result<String, RPCError>, file: StaticString = #filePath, line: UInt = #line) -> RPCError? {
        switch result {
        case .success(let prompt):
            XCTFail("expected a failure, the call passed with \"\(prompt)\"", file: file, line: line)
            return nil
        case .failure(let error):
            return error
        }
    }

    /// Waits until the child is back (or the deadline passes); returns the new pid.
    @discardableResult
    func waitForRestart(_ plugin: IsolatedPlugin, restarts: Int, within seconds: Double = 20,
                        file: StaticString = #filePath, line: UInt = #line) -> pid_t? {
        let giveUp = Date().addingTimeInterval(seconds)
        while Date() < giveUp {
            let status = plugin.status
            if status.restarts >= restarts, let pid = status.pid { return pid }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("the plugin process was not restarted within \(seconds) s: \(plugin.status)", file: file, line: line)
        return nil
    }

    static func processExists(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    // MARK: - verdicts

    func testPassDenyMutateChunksAndPluginErrorsCrossTheProcessBoundary() throws {
        let log = LogSink()
        let plugin = try isolated(log: log)
        let chain = chain(plugin)
        let pid = try XCTUnwrap(plugin.status.pid)
        XCTAssertNotEqual(pid, getpid())
        XCTAssertEqual(plugin.info.name, "test-plugin")
        XCTAssertEqual(plugin.hooks, [.request, .chunk])
        XCTAssertEqual(plugin.digest.count, 64)

        XCTAssertEqual(try request(chain, "hello").get(), "hello")
        XCTAssertEqual(try request(chain, "please mutate-me").get(), "mutated prompt")

        let deny = expectFailure(request(chain, "a forbidden thing"))
        XCTAssertEqual(deny?.code, .permissionDenied)
        XCTAssertEqual(deny?.message, "forbidden word")
        XCTAssertEqual(deny?.metadata["retry-after-ms"], "250")
        XCTAssertEqual(deny?.metadata["rampart-denied-by"], "iso")

        // A plugin's own error is reported, not a crash: same text as in-process, same child.
        let error = expectFailure(request(chain, "error-now"))
        XCTAssertEqual(error?.code, .internal)
        XCTAssertEqual(error?.message, "plugin iso failed: plugin iso: on_request failed (status 13): plugin exploded")
        XCTAssertEqual(error?.metadata["rampart-failed-plugin"], "iso")
        XCTAssertEqual(plugin.status.pid, pid)
        XCTAssertEqual(plugin.status.restarts, 0)

        let call = chain.begin(context)
        XCTAssertEqual(try call.filterChunk("a fine line"), "a fine line")
        XCTAssertEqual(try call.filterChunk("the cat sat"), "dog")
        XCTAssertThrowsError(try call.filterChunk("the SECRET is")) { error in
            XCTAssertEqual((error as? RPCError)?.code, .permissionDenied)
        }
        call.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)

        // The plugin's log lines come back over the wire ("pass" is logged on every passed request).
        XCTAssertTrue(log.all.contains { $0.0 == .debug && $0.1 == "pass" }, "\(log.all)")
        XCTAssertEqual(chain.stages[0].stats.snapshot.passed, 2)  // "hello", "a fine line"
        XCTAssertEqual(chain.stages[0].stats.snapshot.mutated, 2)
        XCTAssertEqual(chain.stages[0].stats.snapshot.errored, 1)
    }

    // MARK: - crashes

    func testACrashFailsTheCallClosedAndTheChildIsRestartedAfterTheBackoff() throws {
        let plugin = try isolated(options: options(initialBackoff: .milliseconds(300)))
        let chain = chain(plugin, .closed)
        let firstPID = try XCTUnwrap(plugin.status.pid)
        XCTAssertEqual(try request(chain, "hello").get(), "hello")

        let crash = expectFailure(request(chain, "crash-now"))
        XCTAssertEqual(crash?.code, Self.failureCode)
        XCTAssertEqual(crash?.metadata["rampart-failed-plugin"], "iso")
        XCTAssertTrue(crash?.message.contains("plugin iso: isolated process failed: plugin process (pid \(firstPID)) killed by signal 11 (SIGSEGV") ?? false,
                      "\(String(describing: crash))")
        XCTAssertTrue(crash?.message.contains("during on_request") ?? false, "\(String(describing: crash))")
        XCTAssertFalse(Self.processExists(firstPID), "the crashed child is reaped")

        // While backing off (300 ms), calls fail at once.
        let started = Date()
        let down = expectFailure(request(chain, "hello"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.15)
        XCTAssertTrue(down?.message.contains("the plugin process is down") ?? false, "\(String(describing: down))")
        XCTAssertEqual(plugin.status.consecutiveFailures, 1)

        let secondPID = try XCTUnwrap(waitForRestart(plugin, restarts: 1))
        XCTAssertNotEqual(secondPID, firstPID)
        XCTAssertEqual(try request(chain, "hello").get(), "hello")
        XCTAssertEqual(try request(chain, "please mutate-me").get(), "mutated prompt")
        XCTAssertEqual(plugin.status.restarts, 1)
        XCTAssertEqual(plugin.status.consecutiveFailures, 0, "a successful call resets the backoff")
        XCTAssertEqual(chain.stages[0].stats.snapshot.errored, 2)
    }

    func testACrashFailsOpenWhenTheStageSaysSo() throws {
        let plugin = try isolated()
        let chain = chain(plugin, .open)
        XCTAssertEqual(try request(chain, "crash-now please mutate-me").get(), "crash-now please mutate-me",
                       "fail-open: the call goes on unchanged")
        XCTAssertEqual(chain.stages[0].stats.snapshot.errored, 1)
        XCTAssertNil(plugin.status.pid)
        waitForRestart(plugin, restarts: 1)
        XCTAssertEqual(try request(chain, "please mutate-me").get(), "mutated prompt")
    }

    func testTheBackoffDoublesWhileTheChildKeepsCrashing() throws {
        let plugin = try isolated(options: options(initialBackoff: .milliseconds(150)))
        let chain = chain(plugin)
        _ = expectFailure(request(chain, "crash-now"))
        var crashed = Date()
        waitForRestart(plugin, restarts: 1)
        let first = Date().timeIntervalSince(crashed)
        XCTAssertGreaterThanOrEqual(first, 0.15)

        _ = expectFailure(request(chain, "crash-now"))  // no successful call in between
        crashed = Date()
        XCTAssertEqual(plugin.status.consecutiveFailures, 2)
        waitForRestart(plugin, restarts: 2)
        let second = Date().timeIntervalSince(crashed)
        XCTAssertGreaterThanOrEqual(second, 0.30, "150 ms doubled")

        XCTAssertEqual(try request(chain, "hello").get(), "hello")
        XCTAssertEqual(plugin.status.consecutiveFailures, 0, "a success resets the backoff")
        _ = expectFailure(request(chain, "crash-now"))
        XCTAssertEqual(plugin.status.consecutiveFailures, 1, "back to the initial delay")
        waitForRestart(plugin, restarts: 3)
    }

    // MARK: - timeouts

    func testAHookPastItsTimeoutKillsTheChild() throws {
        let plugin = try isolated(timeout: .milliseconds(50))
        let chain = chain(plugin, .closed, timeout: .milliseconds(50))
        let pid = try XCTUnwrap(plugin.status.pid)
        XCTAssertEqual(try request(chain, "hello").get(), "hello")

        let started = Date()
        let error = expectFailure(request(chain, "sleep-now"))  // the hook sleeps 300 ms
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.05)
        XCTAssertLessThan(elapsed, 0.25, "the call does not wait for the hung hook")
        XCTAssertEqual(error?.code, Self.failureCode)
        XCTAssertEqual(error?.message, "plugin iso failed: plugin iso: on_request exceeded its timeout of 50 ms")
        XCTAssertFalse(Self.processExists(pid), "the hung child was killed and reaped")
        XCTAssertTrue(plugin.status.lastFailure.contains("killed by signal 9 (SIGKILL)"), plugin.status.lastFailure)

        waitForRestart(plugin, restarts: 1)
        XCTAssertEqual(try request(chain, "hello").get(), "hello")
    }

    func testAHungHookFailsOpenWithoutBlocking() throws {
        let plugin = try isolated(timeout: .milliseconds(50))
        let chain = chain(plugin, .open, timeout: .milliseconds(50))
        let started = Date()
        XCTAssertEqual(try request(chain, "sleep-now").get(), "sleep-now")
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.25)
        XCTAssertEqual(chain.stages[0].stats.snapshot.errored, 1)
        waitForRestart(plugin, restarts: 1)
    }

    // MARK: - startup failures

    func testAChildThatCannotLoadItsPluginSaysWhy() throws {
        XCTAssertThrowsError(try IsolatedPlugin(name: "bad", directory: "/nonexistent-\(getpid())", library: "libnope.so", config: [],
                                                timeout: .seconds(1), options: options()) { _, _ in }) { error in
            XCTAssertEqual(error as? PluginError, .cannotOpen(plugin: "bad", reason: "cannot read /nonexistent-\(getpid())/libnope.so"))
        }
        // The plugin's own create error, with the config that travelled in the hello.
        XCTAssertThrowsError(try isolated(name: "picky", config: "reject")) { error in
            XCTAssertEqual(error as? PluginError, .createFailed(plugin: "picky", status: 3, message: "config says reject"))
        }
        XCTAssertThrowsError(try isolated(["BAD_MAGIC"], name: "magic")) { error in
            XCTAssertEqual(error as? PluginError, .badMagic(plugin: "magic", found: 0xdeadbeef))
        }
        // The child refuses a library other than the one the sidecar verified.
        let fixture = try buildFixture()
        XCTAssertThrowsError(try IsolatedPlugin(name: "swapped", directory: fixture.directory, library: fixture.library, config: [],
                                                expectedDigest: String(repeating: "0", count: 64),
                                                timeout: .seconds(1), options: options()) { _, _ in }) { error in
            guard case .untrusted(let plugin, let reason)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(plugin, "swapped")
            XCTAssertTrue(reason.contains("is not the file the sidecar verified"), reason)
        }
    }

    func testALogitsPluginIsRefused() throws {
        XCTAssertThrowsError(try isolated(["WITH_LOGITS"], name: "sampler")) { error in
            guard case .cannotOpen(let plugin, let reason)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(plugin, "sampler")
            XCTAssertTrue(reason.contains("the logits hook is not supported with isolation = \"process\""), reason)
        }
    }

    /// A stand-in for `rampart` that misbehaves before the handshake.
    func fakeExecutable(_ script: String) throws -> String {
        let path = "/tmp/rampart-fake-host-\(getpid())-\(UInt32.random(in: 0 ... .max)).sh"
        try Data("#!/bin/sh\n\(script)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        addTeardownBlock { unlink(path) }
        return path
    }

    func expectStartFailure(_ executable: String, startupTimeout: Duration = .seconds(5), within seconds: Double,
                            file: StaticString = #filePath, line: UInt = #line, _ check: (PluginError) -> Bool) throws {
        let fixture = try buildFixture()
        let started = Date()
        XCTAssertThrowsError(try IsolatedPlugin(name: "fake", directory: fixture.directory, library: fixture.library, config: [],
                                                timeout: .seconds(1),
                                                options: options(startupTimeout: startupTimeout, executable: executable)) { _, _ in },
                             file: file, line: line) { error in
            guard let error = error as? PluginError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(check(error), "unexpected: \(error)", file: file, line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), seconds, file: file, line: line)
    }

    func testGarbageOrSilenceBeforeTheHandshakeIsAPreciseError() throws {
        // 'garb' announces a 1.7 GB frame.
        try expectStartFailure(try fakeExecutable("printf 'garbage!' >&3; exec sleep 30"), within: 3) { error in
            guard case .crashed("fake", let reason) = error else { return false }
            return reason.contains("failed to start: a frame of 1734439522 bytes exceeds the limit") && reason.contains("killed by signal 9")
        }
        // A well-sized frame that is not a reply.
        try expectStartFailure(try fakeExecutable("printf '\\000\\000\\000\\002\\377\\377' >&3; exec sleep 30"), within: 3) { error in
            guard case .crashed("fake", let reason) = error else { return false }
            return reason.contains("failed to start: malformed frame: not a rampart.v1.IsolatedReply")
        }
        try expectStartFailure(try fakeExecutable("exit 5"), within: 3) { error in
            guard case .crashed("fake", let reason) = error else { return false }
            return reason.contains("exited with status 5")
        }
        try expectStartFailure(try fakeExecutable("exec sleep 30"), startupTimeout: .milliseconds(300), within: 3) { error in
            guard case .crashed("fake", let reason) = error else { return false }
            return reason.contains("was not ready within 300 ms") && reason.contains("killed by signal 9")
        }
        try expectStartFailure("/nonexistent/rampart", within: 3) { error in
            guard case .cannotOpen("fake", let reason) = error else { return false }
            return reason == "cannot start /nonexistent/rampart: No such file or directory"
        }
    }

    // MARK: - garbage mid-call

    func testGarbageAndOversizedRepliesEndTheChildNotTheSidecar() throws {
        let plugin = try isolated(["WIRE_GARBAGE"])
        let chain = chain(plugin)
        let garbage = expectFailure(request(chain, "garbage-now"))
        XCTAssertEqual(garbage?.code, Self.failureCode)
        XCTAssertTrue(garbage?.message.contains("malformed frame: not a rampart.v1.IsolatedReply (1 bytes)") ?? false,
                      "\(String(describing: garbage))")
        XCTAssertTrue(garbage?.message.contains("killed by signal 9 (SIGKILL)") ?? false, "\(String(describing: garbage))")
        waitForRestart(plugin, restarts: 1)

        let oversized = expectFailure(request(chain, "oversize-now"))
        XCTAssertTrue(oversized?.message.contains("a frame of 2147483647 bytes exceeds the limit of \(16 << 20 + 65_536)") ?? false,
                      "\(String(describing: oversized))")
        waitForRestart(plugin, restarts: 2)
        XCTAssertEqual(try request(chain, "please mutate-me").get(), "mutated prompt")
    }

    // MARK: - per-call state

    func testEachCallHasItsOwnStreamInTheChild() throws {
        let plugin = try isolated(["WITH_STREAMS"])
        let chain = chain(plugin)
        let a = chain.begin(context)
        let b = chain.begin(context)
        XCTAssertEqual(try a.filterChunk("one"), "one")
        XCTAssertEqual(try a.filterChunk("count?"), "chunks=2")
        XCTAssertEqual(try b.filterChunk("count?"), "chunks=1")
        XCTAssertEqual(try a.filterChunk("live?"), "live=2")
        a.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)
        b.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)
        let c = chain.begin(context)
        XCTAssertEqual(try c.filterChunk("live?"), "live=1", "the ended calls' streams were freed in the child")

        // A call whose child died cannot go on with fresh state in the new child.
        var r = Rampart_V1_GenerateRequest()
        r.prompt = "crash-now"
        var metadata: [String: String] = [:]
        XCTAssertThrowsError(try c.onRequest(&r, metadata: &metadata))
        waitForRestart(plugin, restarts: 1)
        XCTAssertThrowsError(try c.filterChunk("count?")) { error in
            XCTAssertTrue("\(error)".contains("restarted during this call"), "\(error)")
        }
        c.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)
        let d = chain.begin(context)
        XCTAssertEqual(try d.filterChunk("count?"), "chunks=1")
        XCTAssertEqual(try d.filterChunk("live?"), "live=1")
        d.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)
    }

    // MARK: - lifecycle

    func testShutdownAndReleaseStopTheChild() throws {
        let plugin = try isolated()
        let pid = try XCTUnwrap(plugin.status.pid)
        plugin.shutdown()
        XCTAssertTrue(plugin.status.stopped)
        let error = expectFailure(request(chain(plugin), "hello"))
        XCTAssertTrue(error?.message.contains("the plugin was shut down") ?? false, "\(String(describing: error))")
        var giveUp = Date().addingTimeInterval(5)
        while Self.processExists(pid), Date() < giveUp { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertFalse(Self.processExists(pid))

        var released: IsolatedPlugin? = try isolated(shutDownAfterTest: false)
        let releasedPID = try XCTUnwrap(released?.status.pid)
        released = nil
        _ = released
        giveUp = Date().addingTimeInterval(5)
        while Self.processExists(releasedPID), Date() < giveUp { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertFalse(Self.processExists(releasedPID), "releasing the plugin ends its process")
    }

    /// The child asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG). Here its parent is a
    /// shell that this test kills while still holding the socket open, so the child sees no EOF:
    /// only the death signal can end it.
    func testThePluginProcessDiesWithItsParent() throws {
        let fixture = try buildFixture()
        let script = "\"$0\" plugin-host --fd 3 --directory \"$1\" --library \"$2\" --name orphan "
            + "--cache-directory \"$3\" --allow-unsigned & exec sleep 60"
        let shell = try Spawner.shared.spawn(executable: "/bin/sh", arguments: [
            "-c", script, Self.rampartExecutable, fixture.directory, fixture.library, "/tmp/rampart-plugin-cache-\(getpid())",
        ])
        defer { shell.kill() }
        var hello = Rampart_V1_IsolatedCall()
        hello.id = 1
        hello.hello = Rampart_V1_IsolatedHello()
        let readyBy = IsolatedPlugin.deadline(after: .seconds(20))
        try shell.channel.write(try IsolationWire.frame(hello), deadline: readyBy)
        let reply = try shell.channel.read(Rampart_V1_IsolatedReply.self, deadline: readyBy)
        guard case .ready(let ready)? = reply.result else { return XCTFail("\(reply)") }
        let child = ready.pid
        XCTAssertNotEqual(child, shell.pid)
        XCTAssertTrue(Self.isAlive(child))

        // Reaping the shell closes our end of the socket: keep a copy open so that the child
        // sees no EOF (it would exit by itself on EOF).
        let keepOpen = dup(shell.channel.fd)
        defer { close(keepOpen) }
        XCTAssertEqual(shell.kill(), "killed by signal 9 (SIGKILL)")
        let giveUp = Date().addingTimeInterval(5)
        while Self.isAlive(child), Date() < giveUp { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertFalse(Self.isAlive(child), "the plugin process outlived its parent")
    }

    /// Running or sleeping, not gone and not a zombie waiting for a reaper.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    // MARK: - the chain builder

    func testChainBuilderStartsIsolatedPlugins() throws {
        let fixture = try buildFixture()
        try Data(#"{"name": "fixture", "library": "\#(fixture.library)"}"#.utf8)
            .write(to: URL(fileURLWithPath: fixture.directory + "/plugin.json"))
        var builder = ChainBuilder(loader: devLoader(), signals: SignalStore(), holdBackBytes: 0) { _, _, _ in }
        builder.executablePath = Self.rampartExecutable
        let policy = StagePolicy(failureMode: .closed, timeout: .seconds(2))
        let chain = try builder.build([PluginSpec(name: "walled", directory: fixture.directory, policy: policy, isolated: true)])
        let plugin = try XCTUnwrap(chain.stages.first?.plugin as? IsolatedPlugin)
        addTeardownBlock { plugin.shutdown() }
        XCTAssertEqual(plugin.timeout, .seconds(2))
        XCTAssertEqual(try request(chain, "please mutate-me").get(), "mutated prompt")

        XCTAssertThrowsError(try builder.build([PluginSpec(name: "gone", directory: "/nonexistent-\(getpid())", isolated: true)])) { error in
            XCTAssertEqual(error as? PluginError,
                           .cannotOpen(plugin: "gone", reason: "cannot read /nonexistent-\(getpid())/plugin.json (a plugin directory needs plugin.json)"))
        }
        let signed = ChainBuilder(loader: PluginLoader(cacheDirectory: "/tmp/rampart-plugin-cache-\(getpid())", trust: .signed { _ in [:] }),
                                  signals: SignalStore(), holdBackBytes: 0) { _, _, _ in }
        XCTAssertThrowsError(try signed.build([PluginSpec(name: "keyless", directory: fixture.directory, isolated: true)])) { error in
            guard case .untrusted("keyless", let reason)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("trustedKeyFiles"), reason)
        }
    }

    func testCrashesAndTimeoutsSayUnavailable() {
        XCTAssertEqual(PluginError.crashed(plugin: "p", reason: "r").statusCode, .unavailable)
        XCTAssertEqual(PluginError.timeout(plugin: "p", hook: "on_request", limitMillis: 5).statusCode, .unavailable)
        XCTAssertEqual(PluginError.hookFailed(plugin: "p", hook: "on_request", status: 4, message: "m").statusCode, .internal)
    }

    // MARK: - cost

    /// Prints the cost of a request hook call in-process and isolated (same plugin, same chain
    /// code); fails only if an isolated call is absurdly slow.
    func testCostPerCall() throws {
        let fixture = try buildFixture()
        let loaded = try devLoader().load(directory: fixture.directory, library: fixture.library, name: "native")
        let native = try NativePlugin(library: loaded, name: "native", config: [], signals: SignalStore()) { _, _ in }
        let walled = try isolated()
        let nativeChain = try PluginChain(stages: [ChainStage(plugin: native)], holdBackBytes: 0)
        let isolatedChain = chain(walled)

        func measure(_ chain: PluginChain, _ count: Int, chunk: Bool) -> Double {
            let start = ContinuousClock.now
            for _ in 0 ..< count {
                if chunk {
                    let call = chain.begin(context)
                    _ = try? call.filterChunk("some generated text")
                    call.end(finish: .stop, usage: Rampart_V1_Usage(), status: .ok, deliveredBytes: 0)
                } else {
                    _ = request(chain, "hello")
                }
            }
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(count)
        }
        _ = measure(isolatedChain, 200, chunk: false)  // warm up
        let count = 2_000
        let nativeRequest = measure(nativeChain, count, chunk: false)
        let isolatedRequest = measure(isolatedChain, count, chunk: false)
        let nativeChunk = measure(nativeChain, count, chunk: true)
        let isolatedChunk = measure(isolatedChain, count, chunk: true)
        print(String(format: "isolation cost per call (µs): request in-process %.1f, isolated %.1f; chunk in-process %.1f, isolated %.1f",
                     nativeRequest, isolatedRequest, nativeChunk, isolatedChunk))
        XCTAssertLessThan(isolatedRequest, 2_000)
        XCTAssertLessThan(isolatedChunk, 2_000)
        XCTAssertEqual(walled.status.restarts, 0)
    }
}
