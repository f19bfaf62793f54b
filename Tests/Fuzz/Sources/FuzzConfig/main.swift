import FuzzSupport
import RampartConfig
import RampartSanitizerCore
import RampartThrottleCore

/// Configuration text: `rampart.toml` (TOMLKit/toml++ then Rampart's schema, ranges and
/// cross-checks, as `ConfigLoader.load` does after reading the file), the sanitizer plugin's JSON
/// config (`SanitizerConfig.parse`, what `SanitizerPlugin.init` runs) and the throttle plugin's
/// JSON-or-TOML config (`ThrottleConfig.parse`). A config that loads must render back to TOML
/// that loads to the same config.
///
/// First byte: which parser (mod 3); the rest is the file.
enum Harness {
    static func run(_ input: inout FuzzInput) {
        let which = input.byte() % 3
        let bytes = input.rest()
        switch which {
        case 0:
            // ConfigLoader.load refuses invalid UTF-8 before parsing; the repaired text is parsed either way.
            let toml = text(bytes)
            do {
                let config = try ConfigLoader.parse(toml, baseDirectory: "/etc/rampart", source: "rampart.toml")
                let rendered = config.render()
                do {
                    let again = try ConfigLoader.parse(rendered, baseDirectory: "/etc/rampart", source: "rendered.toml")
                    invariant(again == config, "render → parse changed the config:\n\(rendered)")
                } catch {
                    fatalError("a loaded config renders to TOML that does not load (\(error)):\n\(rendered)")
                }
            } catch {
                _ = "\(error)"
            }
        case 1:
            do { _ = try SanitizerConfig.parse(text(bytes)) } catch { _ = error.description }
        default:
            do { _ = try ThrottleConfig.parse(bytes) } catch { _ = error.description }
        }
    }
}

fuzzMain { Harness.run(&$0) }
