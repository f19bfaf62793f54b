import RampartAudit
import RampartCore
import RampartProto
import Synchronization

/// What the chain knows about one call, shared by the call and every plugin stream of it: who
/// calls (peer, then the principal an authentication plugin established) and where audit events
/// go. Updated by the chain only; read by the audit stamp.
public final class ChainCallInfo: Sendable {
    public let requestID: String
    public let method: String
    public let peer: PeerCredentials?
    public let audit: any AuditSink
    private let principalBox = Mutex<Rampart_V1_Principal?>(nil)

    public init(context: CallContext, audit: any AuditSink) {
        self.requestID = context.requestID
        self.method = context.method
        self.peer = context.peer
        self.audit = audit
    }

    /// The authenticated principal, once a plugin set one.
    public var principal: Rampart_V1_Principal? {
        get { principalBox.withLock { $0 } }
        set { principalBox.withLock { $0 = newValue } }
    }

    /// Host fields for an audit event of this call.
    public var stamp: AuditStamp {
        var peerMessage: Rampart_V1_PeerCredentials?
        if let peer {
            var p = Rampart_V1_PeerCredentials()
            p.pid = peer.pid
            p.uid = peer.uid
            p.gid = peer.gid
            peerMessage = p
        }
        return AuditStamp(requestID: requestID, method: method, peer: peerMessage, principalID: principal?.id ?? "")
    }
}

/// The host services one plugin gets for one call (ABI: the `rp_call` callbacks that need the
/// call): today the audit trail.
public final class ChainEnvironment: Sendable {
    /// The plugin this environment belongs to (the audit record's `source`).
    public let plugin: String
    public let call: ChainCallInfo?
    private let sink: any AuditSink

    public init(plugin: String, call: ChainCallInfo) {
        self.plugin = plugin
        self.call = call
        self.sink = call.audit
    }

    /// Outside any call (plugin creation): events carry no request fields.
    public init(plugin: String, audit: any AuditSink) {
        self.plugin = plugin
        self.call = nil
        self.sink = audit
    }

    /// Records `event` in the audit trail with the host fields filled in.
    public func audit(_ event: Rampart_V1_AuditEvent) {
        sink.record((call?.stamp ?? AuditStamp()).apply(to: event, source: plugin))
    }
}
