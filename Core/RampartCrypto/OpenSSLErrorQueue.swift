import COpenSSL

/// OpenSSL's thread-local error queue.
public enum OpenSSLErrorQueue {
    /// Drains the queue into one message: `context`, then at most four OpenSSL reasons.
    public static func drain(_ context: String) -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            if messages.count < 4 { messages.append(String(decoding: bytes, as: UTF8.self)) }
        }
        return messages.isEmpty ? context : "\(context) (\(messages.joined(separator: "; ")))"
    }
}
