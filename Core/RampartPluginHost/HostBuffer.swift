import RampartChain
import RampartProto
/// A host-owned output buffer handed to plugins as `rp_host_buf *`.
final class HostBuffer {
    var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends unless the limit would be exceeded.
    func append(_ data: UnsafePointer<UInt8>, count: Int) -> Bool {
        guard count >= 0, count <= limit - bytes.count else { return false }
        bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        return true
    }

    func reset() { bytes.removeAll(keepingCapacity: true) }
}

/// Per-call state handed to plugins as `rp_call *`: collects the error message, gives the ABI
/// 1.2 field getters their input, and collects an answer given through host calls.
final class CallState {
    let plugin: String
    let signals: SignalStore
    let log: @Sendable (PluginLogLevel, String) -> Void
    /// The call's audit trail (ABI 1.1 `audit`); nil where the ABI allows no audit.
    let environment: ChainEnvironment?
    /// The hook's input (ABI 1.2 getters); nil in hooks without one (create, chunks, logits).
    let input: HookInput?
    /// Whether this hook may answer with `deny`/`add_trailer`/`set_principal` (request and
    /// response hooks).
    let answerable: Bool
    var errorMessage = ""
    /// What the hook answered through host calls (ABI 1.2) instead of writing a Verdict.
    var answer = HookAnswer()

    init(plugin: String, signals: SignalStore, environment: ChainEnvironment? = nil, input: HookInput? = nil,
         answerable: Bool = false, log: @escaping @Sendable (PluginLogLevel, String) -> Void) {
        self.plugin = plugin
        self.signals = signals
        self.environment = environment
        self.input = input
        self.answerable = answerable
        self.log = log
    }
}

/// Trailer keys a plugin may add through host calls: 1-128 bytes of `[a-z0-9-_.]`.
func isValidTrailerKey(_ key: UnsafeRawBufferPointer) -> Bool {
    guard !key.isEmpty, key.count <= 128 else { return false }
    return key.allSatisfy { byte in
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d || byte == 0x5f || byte == 0x2e
    }
}

/// A plugin's log levels.
public enum PluginLogLevel: Int32, Sendable {
    case debug = 0, info = 1, warning = 2, error = 3
}
