import COpenSSL
import RampartCrypto

/// OpenSSL error queue and memory BIO helpers for this module.
enum OpenSSLSupport {
    /// Drains OpenSSL's thread-local error queue into one message.
    static func drain(_ context: String) -> String { OpenSSLErrorQueue.drain(context) }

    /// Collects what `body` writes into a memory BIO.
    static func collect(_ what: String, _ body: (OpaquePointer) -> Int32) throws(AuthError) -> [UInt8] {
        guard let method = BIO_s_mem(), let bio = BIO_new(method) else { throw AuthError(.crypto, drain("BIO_new failed")) }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw AuthError(.crypto, drain("writing \(what) failed")) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        ERR_clear_error()
        return out
    }

    /// Runs `body` with a read-only memory BIO over `bytes`.
    static func withReadBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T?) -> T? {
        guard bytes.count < Int(Int32.max) else { return nil }
        return bytes.withUnsafeBytes { buffer -> T? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }
}
