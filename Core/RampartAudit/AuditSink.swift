import RampartProto

/// Where security events go. Implementations must be cheap to call from any thread and must never
/// throw at the caller: an audit trail that cannot be written is reported through ``AuditSink/failures``.
///
/// Callers hand over a ``Rampart_V1_AuditEvent`` with the host fields filled in; a sink may add
/// its own framing (sequence number, and — later — a hash chain) without callers changing.
public protocol AuditSink: Sendable {
    /// Records one event.
    func record(_ event: Rampart_V1_AuditEvent)
    /// How many events could not be written (I/O errors). A closed-fail deployment checks it.
    var failures: Int { get }
}

/// Drops every event (no audit configured).
public struct DiscardAuditSink: AuditSink {
    public init() {}
    public func record(_ event: Rampart_V1_AuditEvent) {}
    public var failures: Int { 0 }
}

extension AuditSink {
    /// Records an event of the host itself (no call, no plugin), stamped with the time now.
    public func recordHost(kind: String, outcome: String, reason: String = "", attributes: [String: String] = [:]) {
        record(AuditStamp().apply(to: Rampart_V1_AuditEvent(kind: kind, outcome: outcome, reason: reason, attributes: attributes),
                                  source: ""))
    }
}
