import RampartPluginKit
import RampartSanitizerCore

extension InjectionDetector: InjectionScoring {
    /// The detector's calibrated score (rules, phrase similarity and the learned model combined).
    public func injectionScore(_ text: String) -> Double { scan(text).score }
}

/// Loads the learned prompt-injection detector: the signed artifact
/// (`Rampart_RampartSanitizerCore.resources/injection-model`, installed beside the `rampart`
/// executable) is verified against the compiled-in public key before use. Fail closed: a missing
/// or tampered artifact refuses the plugin's creation instead of running without the detector.
enum InjectionWiring {
    static func load(host: PluginHost) throws -> any InjectionScoring {
        do {
            let detector = try InjectionDetector.loadDefault()
            host.log(.info, "injection detector verified and loaded")
            return detector
        } catch {
            throw PluginError.failedPrecondition("sanitizer: the injection detector cannot be loaded (fail closed): \(error)")
        }
    }
}
