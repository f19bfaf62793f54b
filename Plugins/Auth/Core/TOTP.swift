import Foundation

/// TOTP (RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1 from OpenSSL: 30-second steps from the
/// Unix epoch, 6 digits, 64-bit counter.
public struct TOTP: Sendable {
    /// The shared secret (20 random bytes at enrolment, as RFC 4226 recommends for SHA-1).
    public let secret: [UInt8]
    /// Digits per code (6 by default; the RFC's vectors use 8).
    public let digits: Int
    /// Seconds per step.
    public let period: Int64

    /// A TOTP generator for `secret`.
    public init(secret: [UInt8], digits: Int = 6, period: Int64 = 30) {
        self.secret = secret
        self.digits = digits
        self.period = period
    }

    /// HOTP(K, C) = Truncate(HMAC-SHA1(K, BE64(C))) mod 10^digits.
    public func hotp(counter: UInt64) -> String {
        var message = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { message[i] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * i)) }
        let h = HMAC.mac(.sha1, key: secret, message: message)
        let offset = Int(h[h.count - 1] & 0x0F)
        let binary = (UInt32(h[offset]) & 0x7F) << 24 | UInt32(h[offset + 1]) << 16 | UInt32(h[offset + 2]) << 8 | UInt32(h[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus &*= 10 }
        let code = String(binary % modulus)
        return String(repeating: "0", count: max(0, digits - code.count)) + code
    }

    /// The step (counter) of Unix time `unixSeconds`.
    public func step(at unixSeconds: Int64) -> Int64 { unixSeconds >= 0 ? unixSeconds / period : -1 }

    /// The code for Unix time `unixSeconds`.
    public func code(at unixSeconds: Int64) -> String { hotp(counter: UInt64(max(0, step(at: unixSeconds)))) }

    /// The step whose code matches `code` within ±`window` steps of `unixSeconds`, compared in
    /// constant time; nil when none matches. Malformed codes (wrong length, non-digits) never match.
    public func matchingStep(_ code: String, at unixSeconds: Int64, window: Int64 = 1) -> Int64? {
        let given = Array(code.utf8)
        guard given.count == digits, given.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let now = step(at: unixSeconds)
        var found: Int64?
        for candidate in (now - window)...(now + window) where candidate >= 0 {
            // Every candidate is computed and compared, so timing does not reveal which matched.
            if constantTimeEqual(Array(hotp(counter: UInt64(candidate)).utf8), given), found == nil { found = candidate }
        }
        return found
    }

    /// The otpauth:// URI authenticator apps import (Key Uri Format): label `issuer:account`.
    public func provisioningURI(account: String, issuer: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(Base32.encode(secret))"
            + "&issuer=\(escape(issuer))&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }
}
