import RampartCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Check-digit algorithms used to validate PII candidates (a candidate that fails its checksum
/// is not reported: that is what keeps digit-heavy text from being redacted).
public enum Checksums {
    /// The digits of `text` (other characters skipped).
    static func digits<S: Sequence>(_ text: S) -> [Int] where S.Element == UInt8 {
        text.compactMap { $0 >= 0x30 && $0 <= 0x39 ? Int($0 - 0x30) : nil }
    }

    /// Luhn (ISO/IEC 7812-1 mod 10): credit cards, Canadian SIN, Swedish personnummer, SA ids.
    public static func luhn(_ digits: [Int]) -> Bool {
        guard digits.count >= 2 else { return false }
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    /// IBAN (ISO 13616) mod 97 = 1 on the rearranged, letters-to-digits form.
    public static func ibanMod97(_ compact: [UInt8]) -> Bool {
        guard compact.count >= 15, compact.count <= 34 else { return false }
        let rearranged = compact[4...] + compact[..<4]
        var remainder = 0
        for byte in rearranged {
            switch byte {
            case 0x30...0x39:
                remainder = (remainder * 10 + Int(byte - 0x30)) % 97
            case 0x41...0x5A:
                remainder = (remainder * 100 + Int(byte - 0x41 + 10)) % 97
            default:
                return false
            }
        }
        return remainder == 1
    }

    /// Verhoeff (Aadhaar).
    public static func verhoeff(_ digits: [Int]) -> Bool {
        let d: [[Int]] = [
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
            [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
            [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
            [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
        ]
        let p: [[Int]] = [
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
            [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
            [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
        ]
        var c = 0
        for (i, digit) in digits.reversed().enumerated() { c = d[c][p[i % 8][digit]] }
        return c == 0
    }

    /// Weighted sum of `digits` with `weights`.
    static func weighted(_ digits: [Int], _ weights: [Int]) -> Int {
        zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// ISO 7064 MOD 11,10 (German tax id, Croatian OIB).
    public static func iso7064Mod11_10(_ digits: [Int]) -> Bool {
        guard digits.count >= 2 else { return false }
        var product = 10
        for digit in digits.dropLast() {
            var sum = (digit + product) % 10
            if sum == 0 { sum = 10 }
            product = (sum * 2) % 11
        }
        let check = (11 - product) % 10
        return check == digits[digits.count - 1]
    }

    /// Base58Check (Bitcoin P2PKH/P2SH addresses): double SHA-256 checksum.
    public static func base58Check(_ text: [UInt8]) -> Bool {
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
        var bytes: [UInt8] = []
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return false }
            var carry = value
            for index in bytes.indices.reversed() {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.insert(UInt8(carry & 0xFF), at: 0)
                carry >>= 8
            }
        }
        let zeros = text.prefix { $0 == UInt8(ascii: "1") }.count
        bytes = [UInt8](repeating: 0, count: zeros) + bytes
        guard bytes.count == 25 else { return false }
        let payload = Array(bytes[..<21])
        let check = SHA256.hash(SHA256.hash(payload))
        return Array(check.prefix(4)) == Array(bytes[21...])
    }

    /// Bech32/Bech32m checksum (BIP 173/350) of a lowercase address such as `bc1q…`.
    public static func bech32(_ text: [UInt8]) -> Bool {
        let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
        guard let separator = text.lastIndex(of: UInt8(ascii: "1")), separator >= 1, text.count - separator >= 7 else { return false }
        let hrp = text[..<separator]
        var values: [UInt32] = hrp.map { UInt32($0) >> 5 } + [0] + hrp.map { UInt32($0) & 31 }
        for character in text[(separator + 1)...] {
            guard let v = charset.firstIndex(of: character) else { return false }
            values.append(UInt32(v))
        }
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ v
            for i in 0..<5 where (top >> i) & 1 == 1 { chk ^= generator[i] }
        }
        return chk == 1 || chk == 0x2bc8_30a3
    }

    /// Shannon entropy in bits per character.
    public static func entropy<S: Collection>(_ text: S) -> Double where S.Element == UInt8 {
        guard !text.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        for byte in text { counts[Int(byte)] += 1 }
        let n = Double(text.count)
        var h = 0.0
        for c in counts where c > 0 {
            let p = Double(c) / n
            h -= p * log2(p)
        }
        return h
    }
}
