import XCTest

@testable import RampartConfig

/// The base directory most tests parse against.
let testBase = "/etc/rampart"

/// Parses `toml` as `rampart.toml` in ``testBase``.
func parseConfig(_ toml: String, base: String = testBase) throws -> RampartConfig {
    try ConfigLoader.parse(toml, baseDirectory: base, source: "rampart.toml")
}

/// The `ConfigError` parsing `toml` throws; fails the test when it parses or throws something else.
func configError(
    _ toml: String, base: String = testBase, file: StaticString = #filePath, line: UInt = #line
) -> ConfigError {
    do {
        let config = try parseConfig(toml, base: base)
        XCTFail("expected a ConfigError, parsed \(config)", file: file, line: line)
    } catch let error as ConfigError {
        return error
    } catch {
        XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
    }
    return ConfigError(source: "", issues: [])
}

/// Asserts `error` has exactly one issue and returns it.
@discardableResult
func singleIssue(_ error: ConfigError, file: StaticString = #filePath, line: UInt = #line) -> ConfigError.Issue? {
    XCTAssertEqual(error.issues.count, 1, "issues:\n\(error)", file: file, line: line)
    return error.issues.first
}

/// The repository root, from this file's path (Tests/RampartConfigTests/Support.swift).
var repositoryRoot: String {
    var path = "\(#filePath)"
    for _ in 0..<3 {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        path = String(path[..<slash])
    }
    return path
}

/// A deterministic PRNG (SplitMix64) so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
