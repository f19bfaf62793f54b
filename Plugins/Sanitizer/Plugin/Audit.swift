import RampartPluginKit
import RampartSanitizerCore

/// Security events for denials. The message never contains the offending content (only types
/// and classes). Written to the host log until the ABI 1.1 audit sink is available; then this
/// becomes `context.host.audit(...)` with kind "sanitizer.<code>", outcome "denied".
enum Audit {
    static func denied(_ denial: SanitizerDenial, context: PluginCallContext) {
        context.host.log(.warning, "sanitizer denied (\(denial.code.rawValue)): \(denial.message)")
    }
}
