/// Output-side checks for streamed text: redacts PII and secrets, restores reversible
/// placeholders, and catches canary leaks, even when the sensitive text is split across chunks.
///
/// It keeps its own tail: after each chunk it releases only text that no later chunk can turn
/// into (part of) a finding, holding back the trailing non-whitespace run, the last
/// ``tailBytes`` bytes (entities may contain spaces: phone numbers, grouped IBANs and cards),
/// and any finding that reaches into that tail. The hold never exceeds ``maxHoldBytes``: beyond
/// it the whole buffer is released redacted. ``finish()`` releases the rest at the end.
public struct StreamRedactor: Sendable {
    public let scanner: SensitiveDataScanner?
    public let mode: RedactionMode
    public let vault: RedactionVault
    public let canary: Canary?
    public let tailBytes: Int
    public let maxHoldBytes: Int
    private var buffer: [UInt8] = []
    /// Inside a private key block whose END has not arrived: everything is dropped until it does.
    private var inPrivateKey = false

    /// What one chunk produced.
    public enum Outcome: Sendable, Equatable {
        /// Text to release now (may be empty) and the types redacted in it (each finding's
        /// ``SensitiveFinding/label``: a value of several types names them all).
        case release(String, redacted: [String])
        /// The canary leaked: stop the stream.
        case canaryLeak
    }

    public init(scanner: SensitiveDataScanner?, mode: RedactionMode, vault: RedactionVault, canary: Canary?,
                tailBytes: Int = 64, maxHoldBytes: Int = 1024) {
        self.scanner = scanner
        self.mode = mode
        self.vault = vault
        self.canary = canary
        self.tailBytes = max(8, tailBytes)
        self.maxHoldBytes = max(self.tailBytes * 2, maxHoldBytes)
    }

    /// Bytes currently held back.
    public var heldBytes: Int { buffer.count }

    /// Adds a chunk; returns what may be released.
    public mutating func push(_ chunk: String) throws(PatternError) -> Outcome {
        buffer.append(contentsOf: chunk.utf8)
        return try drain(final: false)
    }

    /// Releases everything still held (end of stream).
    public mutating func finish() throws(PatternError) -> Outcome {
        try drain(final: true)
    }

    private mutating func drain(final: Bool) throws(PatternError) -> Outcome {
        if let canary, canary.leaked(in: String(decoding: buffer, as: UTF8.self)) {
            buffer.removeAll()
            return .canaryLeak
        }
        if inPrivateKey {
            let end = Array("-----END".utf8)
            guard let found = SecretRules.findSequence(buffer, end) else {
                // Keep only enough to recognise the END marker when it arrives.
                if buffer.count > end.count { buffer.removeFirst(buffer.count - end.count) }
                return .release("", redacted: [])
            }
            var stop = found + end.count
            while stop < buffer.count, buffer[stop] != 0x0A { stop += 1 }
            buffer.removeFirst(stop)
            inPrivateKey = false
        }
        var cut = buffer.count
        if !final {
            cut = max(0, buffer.count - tailBytes)
            // Never cut inside a non-whitespace run.
            while cut > 0, !Self.isSpace(buffer[cut - 1]) { cut -= 1 }
            // Nothing can be released yet (the tail rules hold everything back and findings only
            // move the cut further back): the scan could not change the outcome, so it waits for
            // the chunk that makes something releasable (it then scans the whole buffer). A
            // stream of short tokens thus costs one scan per ~tailBytes, not one per token.
            if cut == 0 && buffer.count <= maxHoldBytes { return .release("", redacted: []) }
        }
        // The buffer is a fragment of the output (a chunk, the held tail), never a whole field:
        // the whole-field signal does not apply on the output side.
        let findings = try scanner?.scan(bytes: buffer, scope: .fragment) ?? []
        if !final {
            for finding in findings where finding.range.upperBound > cut { cut = min(cut, finding.range.lowerBound) }
            if buffer.count - cut > maxHoldBytes {
                // Held too long: release everything, redacted.
                cut = buffer.count
                if findings.contains(where: { $0.type == "PRIVATE_KEY" && $0.range.upperBound == buffer.count }) { inPrivateKey = true }
            }
            // A placeholder's prefix ("[EMAIL_ADD") is covered by the non-whitespace rule.
            while cut > 0, cut < buffer.count, buffer[cut] & 0xC0 == 0x80 { cut -= 1 }
        } else if findings.contains(where: { $0.type == "PRIVATE_KEY" && $0.range.upperBound == buffer.count }) {
            inPrivateKey = true
        }
        guard cut > 0 else { return .release("", redacted: []) }
        let released = findings.filter { $0.range.upperBound <= cut }
        let head = Array(buffer[..<cut])
        buffer.removeFirst(cut)
        var text = Redactor.apply(head, released, mode: mode, vault: vault, restorable: false)
        if mode == .reversible { text = vault.restore(text) }
        return .release(text, redacted: released.map(\.label))
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }
}
