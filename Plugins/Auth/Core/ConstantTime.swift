import COpenSSL

/// Constant-time equality of two byte strings (OpenSSL `CRYPTO_memcmp`). Lengths are not secret:
/// different lengths compare unequal at once.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0 }
    }
}
