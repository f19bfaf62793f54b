/// Base64url without padding (RFC 4648 §5, as JWS compact serialization uses it, RFC 7515 §2).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Encodes without padding.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes strict unpadded base64url: no padding, whitespace or `+`/`/`, no impossible length
    /// (4n+1), and the unused low bits of the last character must be zero (canonical form, so one
    /// byte string has exactly one encoding). Returns nil for anything else.
    public static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        let input = Array(text)
        let rest = input.count % 4
        guard rest != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var i = 0
        func value(_ c: UInt8) -> UInt32? {
            let v = table[Int(c)]
            return v == 0xFF ? nil : UInt32(v)
        }
        while i + 4 <= input.count {
            guard let a = value(input[i]), let b = value(input[i + 1]), let c = value(input[i + 2]), let d = value(input[i + 3])
            else { return nil }
            let n = a << 18 | b << 12 | c << 6 | d
            out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            i += 4
        }
        if rest == 2 {
            guard let a = value(input[i]), let b = value(input[i + 1]), b & 0x0F == 0 else { return nil }
            out.append(UInt8((a << 18 | b << 12) >> 16 & 0xFF))
        } else if rest == 3 {
            guard let a = value(input[i]), let b = value(input[i + 1]), let c = value(input[i + 2]), c & 0x03 == 0 else { return nil }
            let n = a << 18 | b << 12 | c << 6
            out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF)]
        }
        return out
    }
}
