import RampartPluginKit
import RampartSanitizerCore

/// Where the learned prompt-injection detector plugs in. Until it is merged this returns nil and
/// the sanitizer runs without an injection score (every other check still applies). After the
/// merge: `extension InjectionDetector: InjectionScoring { func injectionScore(_ t: String) ->
/// Double { scan(t).score } }` and `return try? InjectionDetector.loadDefault()` here.
enum InjectionWiring {
    static func load(host: PluginHost) -> (any InjectionScoring)? {
        nil
    }
}
