/// Gregorian calendar validity for dates embedded in identifiers (birth dates in national ids).
enum CalendarDate {
    /// Whether `day`.`month`.`year` exists (leap years included).
    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }
}
