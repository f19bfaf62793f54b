import RampartPluginKit
import RampartSanitizerCore

/// Security events for denials, in the host's audit trail (ABI 1.1 `audit`): kind
/// `sanitizer.<code>`, outcome `denied`. The event never carries the offending content — only
/// its type or class — and the host log gets the same line.
enum Audit {
    static func denied(_ denial: SanitizerDenial, context: PluginCallContext) {
        context.host.log(.warning, "sanitizer denied (\(denial.code.rawValue)): \(denial.message)")
        context.host.audit(kind: "sanitizer.\(denial.code.rawValue)", outcome: "denied", reason: denial.code.rawValue)
    }
}
