import RampartProto

// Conversions between the engine's types and the rampart.v1 messages (proto/rampart/v1/auth.proto,
// context.proto), shared by the plugin's RPCs and the CLI.

extension Rampart_V1_ApiKeyInfo {
    /// The message for `info`, with its state at `now`.
    public init(_ info: APIKeyInfo, now: Double) {
        self.init()
        id = info.id
        principalID = info.principalID
        scopes = info.scopes ?? []
        allScopes = info.scopes == nil
        label = info.label
        createdAt = info.createdAt
        if let v = info.expiresAt { expiresAt = v }
        if let v = info.revokedAt { revokedAt = v }
        if let v = info.boundUID { boundUid = v }
        if let v = info.boundGID { boundGid = v }
        rotatedTo = info.rotatedTo ?? ""
        state = info.state(at: now)
    }

    /// One line of `keys list`.
    public var line: String {
        var parts = [id, principalID, state, allScopes ? "scopes=*" : "scopes=\(scopes.joined(separator: ","))"]
        if case .expiresAt(let v)? = optExpiresAt { parts.append("expires_at=\(Int64(v))") }
        if case .boundUid(let v)? = optBoundUid { parts.append("uid=\(v)") }
        if case .boundGid(let v)? = optBoundGid { parts.append("gid=\(v)") }
        if !rotatedTo.isEmpty { parts.append("rotated_to=\(rotatedTo)") }
        if !label.isEmpty { parts.append("label=\(label)") }
        return parts.joined(separator: "  ")
    }
}

extension Rampart_V1_Principal {
    /// The message the plugin puts in `Mutation.principal`.
    public init(_ principal: AuthenticatedPrincipal) {
        self.init()
        id = principal.id
        user = principal.user
        org = principal.org
        scopes = principal.scopes
        credentialKind = principal.credentialKind
    }
}

extension Rampart_V1_IssueTokenResponse {
    /// The response for `issued`.
    public init(_ issued: IssuedToken) {
        self.init()
        token = issued.token
        tokenType = "Bearer"
        expiresAt = issued.claims.expiresAt
        kid = issued.kid
        scopes = issued.claims.scopes
        principalID = issued.claims.subject
    }
}

extension MetadataValue {
    /// The value of a wire metadata entry (a missing value is empty text).
    public init(_ entry: Rampart_V1_MetadataEntry) {
        switch entry.value {
        case .binary(let bytes)?: self = .binary(Array(bytes))
        case .text(let text)?: self = .text(text)
        case nil: self = .text("")
        }
    }
}

extension PeerIdentity {
    /// The peer of a request context, or nil when the transport had none.
    public init?(_ context: Rampart_V1_RequestContext) {
        guard context.hasPeer else { return nil }
        self.init(pid: context.peer.pid, uid: context.peer.uid, gid: context.peer.gid)
    }
}

extension AuthAuditEvent {
    /// The wire event (attributes sorted by key).
    public var message: Rampart_V1_AuditEvent {
        Rampart_V1_AuditEvent(kind: kind, outcome: outcome, reason: reason, principalID: principalID, attributes: attributes)
    }
}

/// The request features that may need extra scopes (config `feature_scopes`).
public func requestFeatures(_ request: Rampart_V1_GenerateRequest) -> Set<String> {
    var features: Set<String> = []
    if request.params.logprobs { features.insert("logprobs") }
    if request.params.topLogprobs > 0 { features.insert("top_logprobs") }
    if !request.params.logitBias.isEmpty { features.insert("logit_bias") }
    if request.messages.contains(where: { $0.role == .tool }) { features.insert("tools") }
    if request.messages.contains(where: { $0.role == .retrieved }) { features.insert("retrieved") }
    return features
}
