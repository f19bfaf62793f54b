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

extension Rampart_V1_AuditEvent {
    /// A host-side event (no plugin): `source` is empty.
    public static func host(kind: String, outcome: String, reason: String = "",
                            attributes: [String: String] = [:]) -> Rampart_V1_AuditEvent {
        var event = Rampart_V1_AuditEvent()
        event.kind = kind
        event.outcome = outcome
        event.reason = reason
        event.attributes = attributes.sorted { $0.key < $1.key }.map { key, value in
            var entry = Rampart_V1_MetadataEntry()
            entry.key = key
            entry.value = .text(value)
            return entry
        }
        return event
    }
}
