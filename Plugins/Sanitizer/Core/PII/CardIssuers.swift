/// Payment card plausibility by issuer: the leading digits (IIN ranges of the ISO/IEC 7812
/// registry as the schemes publish them) and the card lengths each scheme issues. A Luhn-valid
/// number outside every range (1 in 10 random digit runs pass Luhn) is not a card.
enum CardIssuers {
    /// Whether `digits` start with a known issuer prefix and have a length that issuer uses.
    static func plausible(_ digits: [Int]) -> Bool {
        let n = digits.count
        func prefix(_ count: Int) -> Int { digits.prefix(count).reduce(0) { $0 * 10 + $1 } }
        let p1 = prefix(1), p2 = prefix(2), p3 = prefix(3), p4 = prefix(4), p6 = prefix(6)
        switch p1 {
        case 1:
            return n == 15  // UATP
        case 2:
            if (2221...2720).contains(p4) { return n == 16 }  // Mastercard 2-series
            if (2200...2204).contains(p4) { return (16...19).contains(n) }  // Mir
            return false
        case 3:
            if p2 == 34 || p2 == 37 { return n == 15 }  // American Express
            if (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 { return (14...19).contains(n) }  // Diners
            if (3528...3589).contains(p4) { return (16...19).contains(n) }  // JCB
            return false
        case 4:
            return n == 13 || n == 16 || n == 19  // Visa
        case 5:
            if (51...55).contains(p2) { return n == 16 }  // Mastercard
            return p2 == 50 || (56...58).contains(p2) ? (12...19).contains(n) : false  // Maestro
        case 6:
            if p4 == 6011 || (644...649).contains(p3) || p2 == 65 || (622_126...622_925).contains(p6) { return (16...19).contains(n) }
            return (12...19).contains(n)  // UnionPay 62, Maestro 6x, RuPay 60
        case 8:
            return (p2 == 81 || p2 == 82) && n == 16  // RuPay
        case 9:
            return p4 == 9792 && n == 16  // Troy
        default:
            return false
        }
    }
}
