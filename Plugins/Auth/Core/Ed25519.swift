import COpenSSL
import RampartCrypto

/// An Ed25519 key (RFC 8032) in OpenSSL (`EVP_PKEY_ED25519`): signing uses `EVP_DigestSign`
/// with no digest, as EdDSA requires. OpenSSL documents a constructed key as safe to share
/// between threads for signing and verification (each operation has its own `EVP_MD_CTX`), and
/// this wrapper never mutates it.
public final class Ed25519Key: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// Whether this key holds the private half (can sign).
    public let canSign: Bool
    /// The 32-byte public key.
    public let publicKey: [UInt8]

    private init(taking pointer: OpaquePointer, canSign: Bool) throws(AuthError) {
        var length = 32
        var raw = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_ED25519,
              EVP_PKEY_get_raw_public_key(pointer, &raw, &length) == 1, length == 32
        else {
            EVP_PKEY_free(pointer)
            throw AuthError(.crypto, OpenSSLSupport.drain("not an Ed25519 key"))
        }
        self.pointer = pointer
        self.canSign = canSign
        self.publicKey = raw
    }

    deinit { EVP_PKEY_free(pointer) }

    /// A fresh private key from 32 bytes of OpenSSL randomness (the RFC 8032 seed).
    public static func generate() throws(AuthError) -> Ed25519Key {
        try Ed25519Key(privateSeed: secureRandomBytes(32))
    }

    /// The private key whose RFC 8032 seed is `seed` (32 bytes; JWK `d`).
    public convenience init(privateSeed seed: [UInt8]) throws(AuthError) {
        guard seed.count == 32 else { throw AuthError(.invalidArgument, "an Ed25519 private key is 32 bytes, got \(seed.count)") }
        guard let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw AuthError(.crypto, OpenSSLSupport.drain("EVP_PKEY_new_raw_private_key failed"))
        }
        try self.init(taking: key, canSign: true)
    }

    /// The public key `raw` (32 bytes; JWK `x`): verifies only.
    public convenience init(publicKey raw: [UInt8]) throws(AuthError) {
        guard raw.count == 32 else { throw AuthError(.invalidArgument, "an Ed25519 public key is 32 bytes, got \(raw.count)") }
        guard let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, 32) else {
            throw AuthError(.crypto, OpenSSLSupport.drain("EVP_PKEY_new_raw_public_key failed"))
        }
        try self.init(taking: key, canSign: false)
    }

    /// Loads a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`, as `openssl genpkey -algorithm ed25519`
    /// and PyJWT/cryptography write it). Encrypted keys are refused.
    public convenience init(privatePEM pem: [UInt8]) throws(AuthError) {
        let key: OpaquePointer? = OpenSSLSupport.withReadBIO(pem) { bio in
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        guard let key else { throw AuthError(.crypto, OpenSSLSupport.drain("not a PEM Ed25519 private key")) }
        try self.init(taking: key, canSign: true)
    }

    /// The private key as unencrypted PKCS#8 PEM.
    public func privatePEM() throws(AuthError) -> [UInt8] {
        guard canSign else { throw AuthError(.invalidArgument, "this Ed25519 key has no private half") }
        return try OpenSSLSupport.collect("Ed25519 private key PEM") { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
    }

    /// The public key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
    public func publicPEM() throws(AuthError) -> [UInt8] {
        try OpenSSLSupport.collect("Ed25519 public key PEM") { PEM_write_bio_PUBKEY($0, pointer) }
    }

    /// The 64-byte Ed25519 signature of `message` (deterministic, RFC 8032).
    public func sign(_ message: [UInt8]) throws(AuthError) -> [UInt8] {
        guard canSign else { throw AuthError(.invalidArgument, "this Ed25519 key has no private half") }
        guard let context = EVP_MD_CTX_new() else { throw AuthError(.crypto, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let ok = message.withUnsafeBytes { m in
            EVP_DigestSignInit(context, nil, nil, nil, pointer) == 1
                && EVP_DigestSign(context, &signature, &length, m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count) == 1
        }
        guard ok, length == 64 else { throw AuthError(.crypto, OpenSSLSupport.drain("Ed25519 signing failed")) }
        return signature
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let ok = signature.withUnsafeBytes { s in
            message.withUnsafeBytes { m in
                EVP_DigestVerifyInit(context, nil, nil, nil, pointer) == 1
                    && EVP_DigestVerify(context, s.baseAddress?.assumingMemoryBound(to: UInt8.self), 64,
                                        m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count) == 1
            }
        }
        if !ok { ERR_clear_error() }
        return ok
    }
}
