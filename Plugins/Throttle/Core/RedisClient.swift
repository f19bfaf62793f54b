import CHiredis
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A reply from Redis, converted out of hiredis's `redisReply`.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    /// The integer value (integers, or numeric strings).
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .string(let text): Int64(text)
        default: nil
        }
    }
}

/// A small, thread-safe pool of hiredis connections with connect and command timeouts.
///
/// A connection that fails is closed; after a failure no new connection is attempted for
/// `retryInterval` (callers fail fast and apply the fail mode), then the next call reconnects.
public final class RedisConnectionPool: @unchecked Sendable {
    private struct State {
        var idle: [UnsafeMutablePointer<redisContext>] = []
        var open = 0
        var downUntil: Int64 = 0
        var lastError = ""
        var closed = false
    }

    private let settings: RedisSettings
    private let condition = NSCondition()
    private var state = State()  // guarded by `condition`

    public init(settings: RedisSettings) {
        self.settings = settings
    }

    deinit {
        for context in state.idle { redisFree(context) }
    }

    /// Where the pool connects, for messages.
    public var endpoint: String {
        settings.socket.map { "unix:\($0)" } ?? "\(settings.host):\(settings.port)"
    }

    /// Whether the last attempt failed and the retry interval has not passed yet.
    public var isDown: Bool {
        condition.lock()
        defer { condition.unlock() }
        return state.downUntil > MonotonicClock.nowMicros()
    }

    /// Closes idle connections; later calls fail.
    public func close() {
        condition.lock()
        state.closed = true
        let idle = state.idle
        state.idle.removeAll()
        state.open -= idle.count
        condition.broadcast()
        condition.unlock()
        for context in idle { redisFree(context) }
    }

    /// Runs one command (`args[0]` is the command name) on a pooled connection.
    ///
    /// A command that fails on a reused connection (stale after a Redis restart, or timed out) is
    /// retried once on a fresh one; only a failed *connect* marks Redis down for the retry interval.
    public func command(_ args: [String]) throws(StoreError) -> RedisReply {
        var attempt = 0
        while true {
            attempt += 1
            let (context, reused) = try borrow()
            do {
                let reply = try Self.run(context, args)
                giveBack(context, broken: false)
                return reply
            } catch {
                giveBack(context, broken: true)
                guard reused, attempt < 2 else { throw error }
            }
        }
    }

    // MARK: pool

    private func borrow() throws(StoreError) -> (UnsafeMutablePointer<redisContext>, reused: Bool) {
        let deadline = Date(timeIntervalSinceNow: Double(settings.commandTimeoutMicros) / 1e6)
        condition.lock()
        while true {
            if state.closed {
                condition.unlock()
                throw StoreError("redis \(endpoint): the pool is closed")
            }
            if state.downUntil > MonotonicClock.nowMicros() {
                let error = state.lastError
                condition.unlock()
                throw StoreError("redis \(endpoint) is unreachable (\(error)); next attempt after the retry interval")
            }
            if let context = state.idle.popLast() {
                condition.unlock()
                return (context, true)
            }
            if state.open < Int(settings.poolSize) {
                state.open += 1
                condition.unlock()
                do {
                    return (try connect(), false)
                } catch {
                    condition.lock()
                    state.open -= 1
                    condition.unlock()
                    markDown(error.message)
                    throw error
                }
            }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw StoreError("redis \(endpoint): no free connection within the command timeout (pool of \(settings.poolSize))")
            }
        }
    }

    private func giveBack(_ context: UnsafeMutablePointer<redisContext>, broken: Bool) {
        condition.lock()
        if broken || state.closed {
            state.open -= 1
            condition.signal()
            condition.unlock()
            redisFree(context)
            return
        }
        state.idle.append(context)
        condition.signal()
        condition.unlock()
    }

    private func markDown(_ message: String) {
        condition.lock()
        state.downUntil = MonotonicClock.nowMicros() + settings.retryIntervalMicros
        state.lastError = message
        // Idle connections are probably dead too: drop them so the next call reconnects.
        let idle = state.idle
        state.idle.removeAll()
        state.open -= idle.count
        condition.broadcast()
        condition.unlock()
        for context in idle { redisFree(context) }
    }

    private func connect() throws(StoreError) -> UnsafeMutablePointer<redisContext> {
        let connectTimeout = Self.makeTimeval(micros: settings.connectTimeoutMicros)
        let made: UnsafeMutablePointer<redisContext>?
        if let socket = settings.socket {
            made = redisConnectUnixWithTimeout(socket, connectTimeout)
        } else {
            made = redisConnectWithTimeout(settings.host, Int32(settings.port), connectTimeout)
        }
        guard let context = made else { throw StoreError("redis \(endpoint): cannot allocate a connection") }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw StoreError("redis \(endpoint): connect failed: \(message)")
        }
        if redisSetTimeout(context, Self.makeTimeval(micros: settings.commandTimeoutMicros)) != REDIS_OK {
            redisFree(context)
            throw StoreError("redis \(endpoint): cannot set the command timeout")
        }
        do throws(StoreError) {
            if let password = settings.password {
                let reply = try Self.run(context, ["AUTH", password])
                if case .error(let text) = reply { throw StoreError("redis \(endpoint): AUTH refused: \(text)") }
            }
            if settings.database != 0 {
                let reply = try Self.run(context, ["SELECT", String(settings.database)])
                if case .error(let text) = reply { throw StoreError("redis \(endpoint): SELECT refused: \(text)") }
            }
        } catch {
            redisFree(context)
            throw error
        }
        return context
    }

    // MARK: hiredis

    /// Sends one command and converts the reply; a NULL reply (I/O error, timeout) throws.
    static func run(_ context: UnsafeMutablePointer<redisContext>, _ args: [String]) throws(StoreError) -> RedisReply {
        let bytes = args.map { Array($0.utf8) }
        var lengths = bytes.map(\.count)
        let raw: UnsafeMutableRawPointer? = withPointers(bytes) { pointers in
            var pointers = pointers
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeMutableBufferPointer { argvlen in
                    redisCommandArgv(context, Int32(args.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
        }
        guard let raw else {
            throw StoreError("redis command \(args.first ?? "") failed: \(errorText(context))")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return convert(reply)
    }

    /// Calls `body` with C pointers to each byte array (kept alive for the call).
    private static func withPointers<R>(_ arrays: [[UInt8]], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>] = []
        pointers.reserveCapacity(arrays.count)
        for array in arrays {
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, array.count))
            array.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: array.count) }
            }
            pointers.append(copy)
        }
        defer { for pointer in pointers { pointer.deallocate() } }
        return body(pointers.map { UnsafePointer($0) })
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            if let element = r.element {
                for index in 0..<Int(r.elements) {
                    if let child = element[index] { elements.append(convert(child)) } else { elements.append(.null) }
                }
            }
            return .array(elements)
        default: return .error("unknown reply type \(r.type)")
        }
    }

    static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            let message = String(decoding: bytes[..<end], as: UTF8.self)
            return message.isEmpty ? "error \(context.pointee.err)" : message
        }
    }

    static func makeTimeval(micros: Int64) -> timeval {
        timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
