/// Per-request memory of redacted values: the same value always gets the same placeholder, and
/// in reversible mode the placeholders are turned back into the originals in the output. Lives in
/// the stream state only: never stored, logged or sent anywhere.
public final class RedactionVault: @unchecked Sendable {
    private var byValue: [String: String] = [:]
    private var originals: [String: String] = [:]
    private var restorable: Set<String> = []
    private var counters: [String: Int] = [:]

    public init() {}

    /// Number of distinct values redacted.
    public var count: Int { byValue.count }

    /// The typed placeholder for `value` of `type` (`[EMAIL_ADDRESS_1]`). Only `restorable`
    /// placeholders (made from the request) are turned back by ``restore(_:)``; those made from
    /// the output never are.
    public func placeholder(for value: String, type: String, restorable: Bool = true) -> String {
        if let existing = byValue[type + "\u{0}" + value] {
            if restorable { self.restorable.insert(existing) }
            return existing
        }
        let n = (counters[type] ?? 0) + 1
        counters[type] = n
        let placeholder = "[\(type)_\(n)]"
        byValue[type + "\u{0}" + value] = placeholder
        originals[placeholder] = value
        if restorable { self.restorable.insert(placeholder) }
        return placeholder
    }

    /// `text` with every known placeholder replaced by its original.
    public func restore(_ text: String) -> String {
        guard !originals.isEmpty, text.contains("[") else { return text }
        var out = text
        for (placeholder, original) in originals where restorable.contains(placeholder) && out.contains(placeholder) {
            out = out.replacingOccurrences(placeholder, original)
        }
        return out
    }

    /// Forgets everything (end of stream).
    public func clear() {
        byValue.removeAll()
        originals.removeAll()
        restorable.removeAll()
        counters.removeAll()
    }
}

/// Replaces findings in text.
public enum Redactor {
    /// `bytes` with each finding replaced per `mode` (findings sorted, non-overlapping).
    public static func apply(_ bytes: [UInt8], _ findings: [SensitiveFinding], mode: RedactionMode, vault: RedactionVault,
                             restorable: Bool = true) -> String {
        guard !findings.isEmpty else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for finding in findings where finding.range.lowerBound >= cursor && finding.range.upperBound <= bytes.count {
            out.append(contentsOf: bytes[cursor..<finding.range.lowerBound])
            let value = String(decoding: bytes[finding.range], as: UTF8.self)
            switch mode {
            case .mask:
                out.append(contentsOf: [UInt8](repeating: UInt8(ascii: "*"), count: min(16, max(4, value.count))))
            case .typed, .reversible:
                out.append(contentsOf: Array(vault.placeholder(for: value, type: finding.type, restorable: restorable).utf8))
            }
            cursor = finding.range.upperBound
        }
        out.append(contentsOf: bytes[cursor...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Redacts every PII and secret in `text` (for log lines and audit attributes): typed
    /// placeholders, no vault kept. On a scan failure the whole text is replaced (fail closed).
    /// `text` is scanned as one field by default, as the request side scans a message: a value
    /// logged alone is redacted at least wherever the request side would redact it (a bare
    /// checksum-valid identifier included); pass `.fragment` for a piece of a longer text.
    public static func forLogs(_ text: String, scanner: SensitiveDataScanner, scope: ScanScope = .field) -> String {
        let bytes = Array(text.utf8)
        guard let findings = try? scanner.scan(bytes: bytes, scope: scope) else { return "[UNSCANNABLE_TEXT_REDACTED]" }
        return apply(bytes, findings, mode: .typed, vault: RedactionVault())
    }
}
