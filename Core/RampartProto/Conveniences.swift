// Hand-written conveniences on the generated messages (scripts/generate-proto.sh replaces only
// the *.pb.swift files).

extension Rampart_V1_MetadataEntry {
    /// A text entry.
    public init(key: String, text: String) {
        self.init()
        self.key = key
        self.value = .text(text)
    }

    /// Text entries for `metadata`, sorted by key (stable bytes for the same dictionary).
    public static func sorted(_ metadata: [String: String]) -> [Rampart_V1_MetadataEntry] {
        metadata.sorted { $0.key < $1.key }.map { Rampart_V1_MetadataEntry(key: $0.key, text: $0.value) }
    }
}

extension Rampart_V1_AuditEvent {
    /// An event as its emitter describes it; the host fields (time, request, peer, source) are
    /// filled in where it is recorded.
    public init(kind: String, outcome: String, reason: String = "", principalID: String = "",
                attributes: [String: String] = [:]) {
        self.init()
        self.kind = kind
        self.outcome = outcome
        self.reason = reason
        self.principalID = principalID
        self.attributes = Rampart_V1_MetadataEntry.sorted(attributes)
    }
}
