import Foundation
import RampartPluginKit

/// Keyword guard. Config: comma-separated banned words. Denies requests that mention one,
/// redacts them in streamed text, and asks for brevity when a request says "please".
public final class KeywordGuard: RampartPlugin {
    public static let name = "keyword-guard-swift"
    public static let version = "1.0.0"
    public static let hooks: PluginHooks = [.request, .chunk]
    let banned: [String]

    public init(config: [UInt8], host: PluginHost) throws {
        banned = String(decoding: config, as: UTF8.self).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard !banned.isEmpty else { throw PluginError.invalidArgument("config must list banned words, e.g. \"secret,password\"") }
        host.log(.info, "keyword guard: \(banned.count) banned words")
    }

    public func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let r = request.request, texts = [r.prompt] + r.messages.map(\.content)
        if let word = banned.first(where: { w in texts.contains { $0.lowercased().contains(w) } }) {
            return .deny(code: .permissionDenied, message: "request mentions a banned word: \(word)")
        }
        guard texts.contains(where: { $0.lowercased().contains("please") }) else { return .pass }
        return .mutate { m in
            if let last = r.messages.lastIndex(where: { $0.role == .user }) {
                m.replaceMessages = true
                m.messages = r.messages
                m.messages[last].content += " (be concise)"
            } else {
                m.replacePrompt = true
                m.prompt = r.prompt + " (be concise)"
            }
        }
    }

    public func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction {
        let redacted = banned.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]", options: .caseInsensitive) }
        return redacted == text ? .pass : .replace(redacted)
    }
}

/// The library's one exported symbol: the host calls it and gets the plugin descriptor.
@_cdecl("rampart_plugin_v1")
public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: KeywordGuard.self, hostMajor: major, hostMinor: minor)
}
