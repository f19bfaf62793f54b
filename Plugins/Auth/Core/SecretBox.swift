import COpenSSL
import RampartCrypto

/// AES-256-GCM sealing of small secrets at rest (TOTP seeds in the store), keyed from the store
/// secret. Layout: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag; `context` is bound as
/// associated data so a sealed value cannot be moved to another row.
struct SecretBox: Sendable {
    private let key: [UInt8]

    /// A box whose key is HMAC-SHA256(storeSecret, "rampart-auth totp-seal v1").
    init(storeSecret: [UInt8]) {
        key = HMAC.mac(.sha256, key: storeSecret, message: Array("rampart-auth totp-seal v1".utf8))
    }

    func seal(_ plaintext: [UInt8], context: String) throws(AuthError) -> [UInt8] {
        let nonce = secureRandomBytes(12)
        guard let (ciphertext, tag) = crypt(encrypt: true, nonce: nonce, input: plaintext, aad: Array(context.utf8), tag: nil)
        else { throw AuthError(.crypto, OpenSSLSupport.drain("AES-256-GCM seal failed")) }
        return nonce + ciphertext + tag
    }

    func open(_ sealed: [UInt8], context: String) throws(AuthError) -> [UInt8] {
        guard sealed.count >= 28 else { throw AuthError(.storage, "a sealed secret is truncated") }
        let nonce = Array(sealed[0..<12]), tag = Array(sealed[(sealed.count - 16)...])
        let body = Array(sealed[12..<(sealed.count - 16)])
        guard let (plaintext, _) = crypt(encrypt: false, nonce: nonce, input: body, aad: Array(context.utf8), tag: tag) else {
            ERR_clear_error()
            throw AuthError(.storage, "a sealed secret does not open with this store secret (wrong secret file or tampered row)")
        }
        return plaintext
    }

    private func crypt(encrypt: Bool, nonce: [UInt8], input: [UInt8], aad: [UInt8], tag: [UInt8]?) -> ([UInt8], [UInt8])? {
        guard let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let initialised = encrypt
            ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce)
            : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce)
        guard initialised == 1 else { return nil }
        var length: Int32 = 0
        if !aad.isEmpty {
            let ok = encrypt ? EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count))
                             : EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count))
            guard ok == 1 else { return nil }
        }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var written: Int32 = 0
        if !input.isEmpty {
            let ok = encrypt ? EVP_EncryptUpdate(ctx, &out, &written, input, Int32(input.count))
                             : EVP_DecryptUpdate(ctx, &out, &written, input, Int32(input.count))
            guard ok == 1 else { return nil }
        }
        var outTag = [UInt8](repeating: 0, count: 16)
        if encrypt {
            var final: Int32 = 0
            guard EVP_EncryptFinal_ex(ctx, &out[Int(written)], &final) == 1,
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &outTag) == 1 else { return nil }
            written += final
        } else {
            var expected = tag ?? []
            guard expected.count == 16, EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &expected) == 1 else { return nil }
            var final: Int32 = 0
            guard EVP_DecryptFinal_ex(ctx, &out[Int(written)], &final) == 1 else { return nil }
            written += final
        }
        return (Array(out[0..<Int(written)]), outTag)
    }
}
