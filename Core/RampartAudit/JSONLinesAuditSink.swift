import Foundation
import RampartProto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// When the JSON Lines sink forces records to disk.
public enum AuditFsyncPolicy: String, Sendable, CaseIterable {
    /// `fsync` after every record: nothing acknowledged is lost on power failure.
    case always
    /// `fsync` at most once per ``JSONLinesAuditSink/fsyncInterval``, on the next write.
    case interval
    /// Leave it to the kernel (the data survives a crash of Rampart, not of the machine).
    case never
}

/// The audit trail as an append-only JSON Lines file: one object per event, keys sorted, one
/// `write(2)` per record on an `O_APPEND` descriptor (records of concurrent writers never
/// interleave). The file is created 0600.
///
/// Every line carries `seq`, a per-file sequence number that continues across restarts (counted
/// from the existing lines at open), so a later hash-chain field can be added here without any
/// caller changing.
public final class JSONLinesAuditSink: AuditSink {
    public let path: String
    public let fsyncPolicy: AuditFsyncPolicy
    public let fsyncInterval: Duration
    private struct State {
        var fd: Int32
        var seq: UInt64
        var lastSync: ContinuousClock.Instant
        var failures = 0
    }
    private let state: Mutex<State>

    /// Opens (creating if needed) the audit file.
    /// - Throws: ``AuditError`` when the file cannot be opened for appending.
    public init(path: String, fsync: AuditFsyncPolicy = .always, fsyncInterval: Duration = .seconds(1)) throws(AuditError) {
        self.path = path
        self.fsyncPolicy = fsync
        self.fsyncInterval = fsyncInterval
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditError(path: path, reason: String(cString: strerror(errno))) }
        let existing = Self.countLines(path)
        state = Mutex(State(fd: fd, seq: existing, lastSync: .now))
    }

    deinit {
        state.withLock { s in
            if s.fd >= 0 { _ = Glibc.fsync(s.fd); close(s.fd) }
        }
    }

    public var failures: Int { state.withLock { $0.failures } }

    public func record(_ event: Rampart_V1_AuditEvent) {
        state.withLock { s in
            s.seq += 1
            var line = Self.encode(event, seq: s.seq)
            line.append(0x0A)
            let written = line.withUnsafeBytes { write(s.fd, $0.baseAddress, $0.count) }
            if written != line.count { s.failures += 1; return }
            switch fsyncPolicy {
            case .always:
                if Glibc.fsync(s.fd) != 0 { s.failures += 1 }
            case .interval:
                let now = ContinuousClock.now
                if now - s.lastSync >= fsyncInterval {
                    if Glibc.fsync(s.fd) != 0 { s.failures += 1 }
                    s.lastSync = now
                }
            case .never:
                break
            }
        }
    }

    /// The JSON object of one record (without the newline). Attribute values longer than 512
    /// bytes are cut: an audit record describes an event, it does not carry payloads.
    static func encode(_ event: Rampart_V1_AuditEvent, seq: UInt64) -> [UInt8] {
        var attributes: [String: String] = [:]
        for entry in event.attributes {
            switch entry.value {
            case .text(let text)?: attributes[entry.key] = String(text.utf8.prefix(512)) ?? String(decoding: text.utf8.prefix(512), as: UTF8.self)
            case .binary(let bytes)?: attributes[entry.key] = "<\(bytes.count) bytes>"
            case nil: attributes[entry.key] = ""
            }
        }
        let record = Record(
            seq: seq, time: Self.rfc3339(microseconds: event.timeUnixUs), time_unix_us: event.timeUnixUs,
            kind: event.kind, outcome: event.outcome, reason: event.reason.isEmpty ? nil : event.reason,
            principal: event.principalID.isEmpty ? nil : event.principalID,
            request_id: event.requestID.isEmpty ? nil : event.requestID,
            method: event.method.isEmpty ? nil : event.method,
            peer: event.hasPeer ? Peer(pid: event.peer.pid, uid: event.peer.uid, gid: event.peer.gid) : nil,
            source: event.source.isEmpty ? "host" : event.source,
            attributes: attributes.isEmpty ? nil : attributes)
        return (try? Self.encoder.encode(record)).map { Array($0) } ?? Array("{\"seq\":\(seq),\"kind\":\"encoding_failed\"}".utf8)
    }

    private struct Peer: Encodable { var pid: Int32; var uid: UInt32; var gid: UInt32 }
    private struct Record: Encodable {
        var seq: UInt64
        var time: String
        var time_unix_us: UInt64
        var kind: String
        var outcome: String
        var reason: String?
        var principal: String?
        var request_id: String?
        var method: String?
        var peer: Peer?
        var source: String
        var attributes: [String: String]?
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func rfc3339(microseconds: UInt64) -> String {
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let micros = microseconds % 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = String(micros)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }

    private static func countLines(_ path: String) -> UInt64 {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return UInt64(data.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
    }
}

/// The audit file could not be opened.
public struct AuditError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open audit log \(path): \(reason)" }
}

/// Fills the host-side fields of an event.
public struct AuditStamp: Sendable {
    public var requestID: String
    public var method: String
    public var peer: Rampart_V1_PeerCredentials?
    public var principalID: String

    public init(requestID: String = "", method: String = "", peer: Rampart_V1_PeerCredentials? = nil, principalID: String = "") {
        self.requestID = requestID
        self.method = method
        self.peer = peer
        self.principalID = principalID
    }

    /// `event` with time, request id, method, peer and source set (the principal only when the
    /// emitter left it empty).
    public func apply(to event: Rampart_V1_AuditEvent, source: String) -> Rampart_V1_AuditEvent {
        var e = event
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        e.timeUnixUs = UInt64(max(0, ts.tv_sec)) * 1_000_000 + UInt64(max(0, ts.tv_nsec)) / 1000
        e.requestID = requestID
        e.method = method
        if let peer { e.peer = peer } else { e.clearPeer() }
        if e.principalID.isEmpty { e.principalID = principalID }
        e.source = source
        return e
    }
}
