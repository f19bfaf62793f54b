import COpenSSL
import RampartCrypto

/// The elliptic curves the model-signing format allows for key-based signatures, each paired
/// with the digest ECDSA uses on it (as the reference tool and Sigstore's key details do).
public enum Curve: String, Sendable, CaseIterable, CustomStringConvertible {
    /// NIST P-256 (prime256v1) with SHA-256.
    case p256
    /// NIST P-384 (secp384r1) with SHA-384.
    case p384
    /// NIST P-521 (secp521r1) with SHA-512.
    case p521

    public var description: String { rawValue }

    /// The OpenSSL group name used for key generation.
    var groupName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    /// The name of the ECDSA digest on this curve.
    public var digestName: String {
        switch self {
        case .p256: "SHA-256"
        case .p384: "SHA-384"
        case .p521: "SHA-512"
        }
    }

    var digest: OpaquePointer? {
        switch self {
        case .p256: EVP_sha256()
        case .p384: EVP_sha384()
        case .p521: EVP_sha512()
        }
    }

    init?(openSSLGroupName name: String) {
        switch name {
        case "prime256v1", "secp256r1", "P-256": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }
}

/// Owns one `EVP_PKEY`. OpenSSL 3 documents a fully constructed key as safe to use from several
/// threads at once for signing and verification (each operation uses its own context), and the
/// wrapper never mutates it after init.
final class OpenSSLKey: @unchecked Sendable {
    let pointer: OpaquePointer
    let curve: Curve

    init(taking pointer: OpaquePointer, source: String) throws(SigningError) {
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC else {
            EVP_PKEY_free(pointer)
            throw .unsupportedKey(source: source, reason: "only elliptic-curve (EC) keys are supported")
        }
        var name = [CChar](repeating: 0, count: 80)
        var length = 0
        guard EVP_PKEY_get_group_name(pointer, &name, name.count, &length) == 1 else {
            EVP_PKEY_free(pointer)
            OpenSSLErrors.clear()
            throw .unsupportedKey(source: source, reason: "the EC key has no named curve (explicit parameters are not supported)")
        }
        let groupName = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let curve = Curve(openSSLGroupName: groupName) else {
            EVP_PKEY_free(pointer)
            throw .unsupportedKey(source: source, reason: "curve \(groupName) is not allowed (use P-256, P-384 or P-521)")
        }
        self.pointer = pointer
        self.curve = curve
    }

    deinit { EVP_PKEY_free(pointer) }
}

enum OpenSSLErrors {
    /// Drains OpenSSL's thread-local error queue into one message.
    static func drain(_ context: String) -> String { OpenSSLErrorQueue.drain(context) }

    static func clear() { ERR_clear_error() }
}

/// Memory BIO helpers.
enum PEMBuffer {
    /// Runs `body` with a read-only memory BIO over `bytes`.
    static func withReadBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(SigningError) -> T) throws(SigningError) -> T {
        guard bytes.count < Int(Int32.max) else { throw .crypto("PEM input too large") }
        let result: Result<T, SigningError> = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
                return .failure(.crypto(OpenSSLErrors.drain("BIO_new_mem_buf failed")))
            }
            defer { BIO_free(bio) }
            do throws(SigningError) { return .success(try body(bio)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Collects what `body` writes into a memory BIO.
    static func collect(_ what: String, _ body: (OpaquePointer) -> Int32) throws(SigningError) -> [UInt8] {
        guard let method = BIO_s_mem(), let bio = BIO_new(method) else {
            throw .crypto(OpenSSLErrors.drain("BIO_new failed"))
        }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw .crypto(OpenSSLErrors.drain("writing \(what) failed")) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        OpenSSLErrors.clear()  // BIO_read on an empty memory BIO may queue a benign error
        return out
    }
}

/// Key files are small; anything larger is not a key.
let maximumKeyFileSize = 64 * 1024

/// An ECDSA private key (P-256, P-384 or P-521) that signs model directories.
public final class SigningKey: Sendable {
    let key: OpenSSLKey

    /// The key's curve.
    public var curve: Curve { key.curve }

    /// The matching public key.
    public let verifyingKey: VerifyingKey

    private init(key: OpenSSLKey) throws(SigningError) {
        self.key = key
        let pem = try PEMBuffer.collect("public key PEM") { PEM_write_bio_PUBKEY($0, key.pointer) }
        self.verifyingKey = try VerifyingKey(pemBytes: pem, source: "(derived from private key)")
    }

    /// Generates a fresh key on `curve` (P-256 by default).
    public static func generate(curve: Curve = .p256) throws(SigningError) -> SigningKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw .crypto(OpenSSLErrors.drain("EVP_PKEY_CTX_new_from_name failed"))
        }
        defer { EVP_PKEY_CTX_free(context) }
        var generated: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_group_name(context, curve.groupName) == 1,
              EVP_PKEY_generate(context, &generated) == 1,
              let generated
        else {
            throw .crypto(OpenSSLErrors.drain("EC key generation on \(curve) failed"))
        }
        return try SigningKey(key: OpenSSLKey(taking: generated, source: "(generated)"))
    }

    /// Loads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`, as
    /// `openssl ecparam -genkey` writes). Encrypted keys are refused.
    public convenience init(pemRepresentation: String) throws(SigningError) {
        try self.init(pemBytes: Array(pemRepresentation.utf8), source: "(PEM text)")
    }

    /// Loads a PEM private key from a file (see `init(pemRepresentation:)`).
    public convenience init(pemFile path: String) throws(SigningError) {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: maximumKeyFileSize)
        } catch {
            throw keyFileError(error, path: path)
        }
        try self.init(pemBytes: bytes, source: path)
    }

    convenience init(pemBytes: [UInt8], source: String) throws(SigningError) {
        if containsMarker(pemBytes, "ENCRYPTED PRIVATE KEY") || containsMarker(pemBytes, "Proc-Type: 4,ENCRYPTED") {
            throw .invalidKey(source: source, reason: "encrypted private keys are not supported; decrypt it first")
        }
        let pointer: OpaquePointer? = try PEMBuffer.withReadBIO(pemBytes) { bio throws(SigningError) in
            // The callback refuses passphrase prompts: encrypted keys fail instead of reading the terminal.
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        guard let pointer else {
            let reason = OpenSSLErrors.drain("not a PEM private key")
            throw .invalidKey(source: source, reason: reason)
        }
        try self.init(key: OpenSSLKey(taking: pointer, source: source))
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public func pemRepresentation() throws(SigningError) -> String {
        let bytes = try PEMBuffer.collect("private key PEM") {
            PEM_write_bio_PrivateKey($0, key.pointer, nil, nil, 0, nil, nil)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the key as PKCS#8 PEM with permissions 0600 (atomically; refuses to replace an
    /// existing file unless `overwrite`).
    public func write(toPEMFile path: String, overwrite: Bool = false) throws(SigningError) {
        try FileSystem.writeFileAtomically(path, Array(try pemRepresentation().utf8), mode: 0o600, overwrite: overwrite)
    }

    /// A DER-encoded ECDSA signature over `message`, with the curve's digest.
    func sign(_ message: [UInt8]) throws(SigningError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw .crypto("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, curve.digest, nil, key.pointer) == 1 else {
            throw .crypto(OpenSSLErrors.drain("EVP_DigestSignInit failed"))
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw .crypto(OpenSSLErrors.drain("EVP_DigestSign (size) failed"))
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw .crypto(OpenSSLErrors.drain("EVP_DigestSign failed"))
        }
        return Array(signature.prefix(length))
    }
}

/// A trusted ECDSA public key (P-256, P-384 or P-521) that verifies signatures.
public final class VerifyingKey: Sendable, Hashable, CustomStringConvertible {
    let key: OpenSSLKey

    /// The key's curve.
    public var curve: Curve { key.curve }

    /// The key as SubjectPublicKeyInfo PEM, re-encoded canonically by OpenSSL.
    public let pemRepresentation: String

    /// The bundle's key hint for this key: the lower-case hex SHA-256 of `pemRepresentation`
    /// (trailing newline included), as the reference tool computes it.
    public let hint: String

    /// Where the key came from (a path, or a description), for messages.
    public let source: String

    /// Loads a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) PEM key.
    public convenience init(pemRepresentation: String) throws(SigningError) {
        try self.init(pemBytes: Array(pemRepresentation.utf8), source: "(PEM text)")
    }

    /// Loads a SubjectPublicKeyInfo PEM key from a file.
    public convenience init(pemFile path: String) throws(SigningError) {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: maximumKeyFileSize)
        } catch {
            throw keyFileError(error, path: path)
        }
        try self.init(pemBytes: bytes, source: path)
    }

    init(pemBytes: [UInt8], source: String) throws(SigningError) {
        if containsMarker(pemBytes, "PRIVATE KEY-----") {
            throw .invalidKey(source: source, reason: "this is a private key; give the public key (PEM 'BEGIN PUBLIC KEY')")
        }
        let pointer: OpaquePointer? = try PEMBuffer.withReadBIO(pemBytes) { bio throws(SigningError) in
            PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        guard let pointer else {
            throw .invalidKey(source: source, reason: OpenSSLErrors.drain("not a PEM public key (expected 'BEGIN PUBLIC KEY')"))
        }
        let key = try OpenSSLKey(taking: pointer, source: source)
        let canonical = try PEMBuffer.collect("public key PEM") { PEM_write_bio_PUBKEY($0, key.pointer) }
        self.key = key
        self.source = source
        self.pemRepresentation = String(decoding: canonical, as: UTF8.self)
        self.hint = hexString(RampartCrypto.SHA256.hash(canonical))
    }

    /// Writes the public key PEM with permissions 0644 (atomically; refuses to replace an
    /// existing file unless `overwrite`).
    public func write(toPEMFile path: String, overwrite: Bool = false) throws(SigningError) {
        try FileSystem.writeFileAtomically(path, Array(pemRepresentation.utf8), mode: 0o644, overwrite: overwrite)
    }

    /// Whether `signature` (DER ECDSA) is valid for `message` under this key.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard !signature.isEmpty, signature.count <= 256 else { return false }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            OpenSSLErrors.clear()
        }
        guard EVP_DigestVerifyInit(context, nil, curve.digest, nil, key.pointer) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    public var description: String { "\(curve) key \(hint.prefix(16))… (\(source))" }

    public static func == (lhs: VerifyingKey, rhs: VerifyingKey) -> Bool { lhs.hint == rhs.hint }
    public func hash(into hasher: inout Hasher) { hasher.combine(hint) }
}

private func containsMarker(_ bytes: [UInt8], _ marker: String) -> Bool {
    let needle = Array(marker.utf8)
    guard bytes.count >= needle.count else { return false }
    for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
        if bytes[start..<start + needle.count].elementsEqual(needle) { return true }
    }
    return false
}

private func keyFileError(_ failure: FileSystem.ReadFailure, path: String) -> SigningError {
    switch failure {
    case .missing: .invalidKey(source: path, reason: "no such file")
    case .tooLarge(let size): .invalidKey(source: path, reason: "\(size) bytes is too large for a PEM key")
    case .notRegular(let kind): .invalidKey(source: path, reason: "is a \(kind), not a key file")
    case .io(let reason): .invalidKey(source: path, reason: reason)
    }
}
