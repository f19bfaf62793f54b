import Foundation
import RampartChain
import RampartProto
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// The framing between the sidecar and an isolated plugin process: `u32 big-endian length |
/// protobuf` on a Unix stream socket (proto/rampart/v1/isolation.proto).
enum IsolationWire {
    /// Largest frame either side accepts: the ABI's 16 MiB verdict limit plus envelope.
    static let maxFrame = (16 << 20) + 65_536

    /// Header + serialized message, ready for one write.
    static func frame(_ message: some SwiftProtobuf.Message) throws(ChannelFailure) -> [UInt8] {
        let body: [UInt8]
        do {
            body = try message.serializedBytes()
        } catch {
            throw .garbage("cannot encode \(type(of: message).protoMessageName): \(error)")
        }
        guard body.count <= maxFrame else { throw .oversized(body.count) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + body.count)
        let length = UInt32(body.count)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(contentsOf: body)
        return bytes
    }
}

/// Why a frame could not be exchanged. Any of these ends the child process.
enum ChannelFailure: Error, Sendable, CustomStringConvertible {
    /// The peer closed its end (EOF).
    case closed
    /// The deadline passed.
    case timedOut
    /// A frame (announced or encoded) is larger than ``IsolationWire/maxFrame``.
    case oversized(Int)
    /// Bytes that are not the expected message.
    case garbage(String)
    /// A system call failed.
    case io(String)

    var description: String {
        switch self {
        case .closed: "the connection was closed"
        case .timedOut: "no answer before the deadline"
        case .oversized(let size): "a frame of \(size) bytes exceeds the limit of \(IsolationWire.maxFrame)"
        case .garbage(let reason): "malformed frame: \(reason)"
        case .io(let reason): reason
        }
    }
}

/// One end of the socketpair. Reads keep unconsumed bytes between frames. Not thread-safe:
/// the owner serializes use (the parent holds its channel lock; the child is single-threaded
/// except for writes, which ``write(_:deadline:)`` callers serialize).
final class FrameChannel: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var consumed = 0
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private var closedFD = false

    init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    func close() {
        guard !closedFD else { return }
        closedFD = true
        _ = Glibc.close(fd)
    }

    /// Writes all bytes; waits for buffer space until `deadline` (monotonic ns; `.max`: forever).
    func write(_ bytes: [UInt8], deadline: UInt64) throws(ChannelFailure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            let error = errno
            if sent < 0, error == EINTR { continue }
            if sent < 0, error == EAGAIN || error == EWOULDBLOCK {
                try wait(for: Int16(POLLOUT), deadline: deadline)
                continue
            }
            if error == EPIPE || error == ECONNRESET { throw .closed }
            throw .io("send: \(String(cString: strerror(error)))")
        }
    }

    /// Reads one frame's payload; waits until `deadline` (monotonic ns; `.max`: forever).
    func readFrame(deadline: UInt64) throws(ChannelFailure) -> [UInt8] {
        while true {
            let available = buffer.count - consumed
            if available >= 4 {
                let length = buffer[consumed ..< consumed + 4].reduce(0) { $0 << 8 | Int($1) }
                guard length <= IsolationWire.maxFrame else { throw .oversized(length) }
                if available >= 4 + length {
                    let start = consumed + 4
                    let payload = Array(buffer[start ..< start + length])
                    consumed = start + length
                    if consumed == buffer.count {
                        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
                        consumed = 0
                    }
                    return payload
                }
                if consumed > 0 {
                    buffer.removeFirst(consumed)
                    consumed = 0
                }
                buffer.reserveCapacity(4 + length)
            }
            try wait(for: Int16(POLLIN), deadline: deadline)
            try fill()
        }
    }

    /// Reads whatever is available (at least one byte, or EOF / EAGAIN).
    private func fill() throws(ChannelFailure) {
        while true {
            let fd = self.fd
            let count = scratch.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: scratch[0 ..< count])
                return
            }
            if count == 0 { throw .closed }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { return }
            if error == ECONNRESET { throw .closed }
            throw .io("recv: \(String(cString: strerror(error)))")
        }
    }

    private func wait(for events: Int16, deadline: UInt64) throws(ChannelFailure) {
        while true {
            var timeout: Int32 = -1
            if deadline != .max {
                let now = monotonicNanos()
                guard now < deadline else { throw .timedOut }
                // Round up: waking early only costs another poll; waking late overshoots.
                timeout = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return }  // readable, writable, hung up or in error: the next call tells
            if ready == 0 { continue }  // re-check the deadline
            let error = errno
            if error == EINTR { continue }
            throw .io("poll: \(String(cString: strerror(error)))")
        }
    }
}

extension FrameChannel {
    /// Reads and decodes one message.
    func read<M: SwiftProtobuf.Message>(_ type: M.Type, deadline: UInt64) throws(ChannelFailure) -> M {
        let payload = try readFrame(deadline: deadline)
        do {
            return try M(serializedBytes: payload)
        } catch {
            throw .garbage("not a \(M.protoMessageName) (\(payload.count) bytes): \(error)")
        }
    }
}
