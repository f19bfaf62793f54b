/// Check-digit algorithms of national identifiers added after the first set (see ``Checksums``):
/// ICAO 9303, Australian, German, Korean, Thai, Singaporean, Italian and DEA numbers. Each takes
/// the identifier's digits or upper-cased characters and says whether the check digit matches.
public enum CheckDigits {
    /// ICAO 9303 machine-readable-zone value of a character: digits as is, A=10 … Z=35, `<` = 0.
    static func icaoValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x5A: return Int(byte - 0x41) + 10
        case 0x3C: return 0
        default: return nil
        }
    }

    /// The ICAO 9303 check digit (weights 7, 3, 1) of upper-cased `chars`.
    public static func icao(_ chars: ArraySlice<UInt8>) -> Int? {
        var sum = 0
        for (index, byte) in chars.enumerated() {
            guard let value = icaoValue(byte) else { return nil }
            sum += value * [7, 3, 1][index % 3]
        }
        return sum % 10
    }

    /// Australian Business Number: subtract 1 from the first digit, weights 10,1,3,…,19, mod 89.
    public static func auABN(_ d: [Int]) -> Bool {
        guard d.count == 11, d[0] > 0 else { return false }
        var digits = d
        digits[0] -= 1
        return Checksums.weighted(digits, [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]) % 89 == 0
    }

    /// Australian Company Number: weights 8…1 on the first eight digits, complement mod 10.
    public static func auACN(_ d: [Int]) -> Bool {
        guard d.count == 9 else { return false }
        return (10 - Checksums.weighted(d, [8, 7, 6, 5, 4, 3, 2, 1]) % 10) % 10 == d[8]
    }

    /// Australian Tax File Number (nine digits): weights 1,4,3,7,5,8,6,9,10, mod 11 = 0.
    public static func auTFN(_ d: [Int]) -> Bool {
        d.count == 9 && Checksums.weighted(d, [1, 4, 3, 7, 5, 8, 6, 9, 10]) % 11 == 0
    }

    /// Australian Medicare card number (ten digits, the tenth the issue number): first digit 2–6,
    /// weights 1,3,7,9,1,3,7,9 on the first eight, mod 10 = the ninth.
    public static func auMedicare(_ d: [Int]) -> Bool {
        guard d.count == 10 || d.count == 11, (2...6).contains(d[0]) else { return false }
        return Checksums.weighted(d, [1, 3, 7, 9, 1, 3, 7, 9]) % 10 == d[8]
    }

    /// German Krankenversichertennummer (KVNR): a letter (A=01 … Z=26) then nine digits; weights
    /// 1,2 alternating over the letter's two digits and the next eight, digit sums, mod 10.
    public static func deKVNR(_ c: [UInt8]) -> Bool {
        guard c.count == 10, Text.isUpper(c[0]), c[1...].allSatisfy(Text.isDigit) else { return false }
        let letter = Int(c[0] - 0x41) + 1
        let digits = [letter / 10, letter % 10] + c[1...8].map { Int($0 - 0x30) }
        var sum = 0
        for (index, digit) in digits.enumerated() {
            let product = digit * (index % 2 == 0 ? 1 : 2)
            sum += product / 10 + product % 10
        }
        return sum % 10 == Int(c[9] - 0x30)
    }

    /// German Rentenversicherungsnummer (12 characters: area, birth date DDMMYY, initial letter,
    /// serial, check): the letter as two digits, weights 2,1,2,5,7,1,2,1,2,1,2,1, digit sums, mod 10.
    public static func deRVNR(_ c: [UInt8]) -> Bool {
        guard c.count == 12, Text.isUpper(c[8]) else { return false }
        let head = c[0..<8], tail = c[9..<12]
        guard head.allSatisfy(Text.isDigit), tail.allSatisfy(Text.isDigit) else { return false }
        let day = Int(c[2] - 0x30) * 10 + Int(c[3] - 0x30), month = Int(c[4] - 0x30) * 10 + Int(c[5] - 0x30)
        // Day may carry +50 for a second number on the same date.
        guard (1...31).contains(day % 50), (1...12).contains(month) else { return false }
        let letter = Int(c[8] - 0x41) + 1
        let digits = head.map { Int($0 - 0x30) } + [letter / 10, letter % 10] + [Int(c[9] - 0x30), Int(c[10] - 0x30)]
        let weights = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1]
        var sum = 0
        for (digit, weight) in zip(digits, weights) {
            let product = digit * weight
            sum += product / 10 + product % 10
        }
        return sum % 10 == Int(c[11] - 0x30)
    }

    /// German Lebenslange Arztnummer (LANR): the seventh digit checks the first six (weights
    /// 4, 9 alternating, complement mod 10).
    public static func deLANR(_ d: [Int]) -> Bool {
        guard d.count == 9 else { return false }
        return (10 - Checksums.weighted(d, [4, 9, 4, 9, 4, 9]) % 10) % 10 == d[6]
    }

    /// German Steuernummer in the nationwide 13-digit ELSTER layout: the four-digit
    /// Bundesfinanzamtsnummer (its first one or two digits name the Land: 28 BW, 9 BY, 11 BE,
    /// 30 BB, 24 HB, 22 HH, 26 HE, 40 MV, 23 NI, 5 NW, 27 RP, 10 SL, 32 SN, 31 ST, 21 SH, 41 TH),
    /// a 0, then the district and personal number with the Land's check digit (not verified: one
    /// algorithm per Land).
    public static func deElsterTaxNumber(_ d: [Int]) -> Bool {
        guard d.count == 13, d[4] == 0, Set(d).count > 2 else { return false }
        if d[0] == 5 || d[0] == 9 { return true }
        return [10, 11, 21, 22, 23, 24, 26, 27, 28, 30, 31, 32, 40, 41].contains(d[0] * 10 + d[1])
    }

    /// Korean resident registration number, 13 digits: the check digit of numbers issued before
    /// October 2020, (11 − Σ dᵢ·wᵢ mod 11) mod 10 with weights 2…9, 2…5.
    public static func krRegistration(_ d: [Int]) -> Bool {
        d.count == 13 && (11 - Checksums.weighted(d, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10 == d[12]
    }

    /// Korean foreign registration number, 13 digits: the same weights, but the check digit of
    /// numbers issued before October 2020 is (13 − Σ dᵢ·wᵢ mod 11) mod 10.
    public static func krForeignRegistration(_ d: [Int]) -> Bool {
        d.count == 13 && (13 - Checksums.weighted(d, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10 == d[12]
    }

    /// Korean business registration number (ten digits).
    public static func krBRN(_ d: [Int]) -> Bool {
        guard d.count == 10 else { return false }
        var sum = Checksums.weighted(d, [1, 3, 7, 1, 3, 7, 1, 3, 5])
        sum += d[8] * 5 / 10
        return (10 - sum % 10) % 10 == d[9]
    }

    /// Thai national id (13 digits): weights 13…2, check = (11 − sum mod 11) mod 10.
    public static func thTNIN(_ d: [Int]) -> Bool {
        guard d.count == 13 else { return false }
        return (11 - Checksums.weighted(d, [13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11) % 10 == d[12]
    }

    /// Whether `code` (second and third digits of a Thai id) is a province code in use:
    /// 10–27 central and east, 30–49 north-east, 50–58 north, 60–67, 70–77 west, 80–86, 90–96 south.
    public static func thaiProvince(_ code: Int) -> Bool {
        [10...27, 30...49, 50...58, 60...67, 70...77, 80...86, 90...96].contains { $0.contains(code) }
    }

    /// Italian Partita IVA (11 digits): Luhn, a non-zero company number and a valid provincial
    /// office code (001–100, 120, 121, 888, 999).
    public static func itVAT(_ d: [Int]) -> Bool {
        guard d.count == 11, d[0..<7].contains(where: { $0 != 0 }), Checksums.luhn(d) else { return false }
        let office = d[7] * 100 + d[8] * 10 + d[9]
        return (1...100).contains(office) || [120, 121, 888, 999].contains(office)
    }

    /// US DEA registration number: two letters then seven digits; (d1+d3+d5) + 2(d2+d4+d6)
    /// ends in d7.
    public static func dea(_ d: [Int]) -> Bool {
        guard d.count == 7 else { return false }
        return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
    }

    /// Singapore UEN: business (8 digits + letter), local company (year + 5 digits + letter) and
    /// other entities (T/S/R, year, entity type, 4 digits, letter), each with its check letter.
    public static func sgUEN(_ c: [UInt8]) -> Bool {
        guard let last = c.last, Text.isUpper(last) else { return false }
        let body = c.dropLast()
        if c.count == 9, body.allSatisfy(Text.isDigit) {
            let sum = Checksums.weighted(body.map { Int($0 - 0x30) }, [10, 4, 9, 3, 8, 2, 7, 1])
            return Array("XMKECAWLJDB".utf8)[sum % 11] == last
        }
        if c.count == 10, body.allSatisfy(Text.isDigit) {
            let sum = Checksums.weighted(body.map { Int($0 - 0x30) }, [10, 8, 6, 4, 9, 7, 5, 3, 1])
            return Array("ZKCMDNERGWH".utf8)[sum % 11] == last
        }
        if c.count == 10, [UInt8(ascii: "T"), UInt8(ascii: "S"), UInt8(ascii: "R")].contains(c[0]) {
            let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWX0123456789".utf8)
            var sum = 0
            for (byte, weight) in zip(body, [4, 3, 5, 3, 10, 2, 2, 5, 7]) {
                guard let value = alphabet.firstIndex(of: byte) else { return false }
                sum += value * weight
            }
            return alphabet[((sum - 5) % 11 + 11) % 11] == last
        }
        return false
    }

    /// Philippine TIN (the nine-digit taxpayer number, without the branch code): the ninth digit
    /// is the weighted sum of the first eight (weights 9…2) mod 11; a remainder of 10 is never
    /// issued. Not published by the BIR; the check that TIN validators (e.g. Presidio's) apply.
    public static func phTIN(_ d: [Int]) -> Bool {
        guard d.count == 9, d.contains(where: { $0 != 0 }) else { return false }
        return Checksums.weighted(d, [9, 8, 7, 6, 5, 4, 3, 2]) % 11 == d[8]
    }

    /// Whether `day`/`month` (1-based) can be a calendar date.
    static func plausibleDate(day: Int, month: Int) -> Bool {
        (1...12).contains(month) && (1...31).contains(day)
    }
}
