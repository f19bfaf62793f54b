/// The table from RPC method (and request features) to the scope a caller needs.
///
/// Rules match a full method (`rampart.v1.Admin/Reload`) or a service (`rampart.v1.Admin/*`);
/// the exact method wins over the service, configured rules over the built-in ones. The scope
/// `public` means no credential is needed. A method no rule covers needs ``defaultScope``
/// (`admin` unless configured): unknown methods fail closed.
public struct RBACPolicy: Sendable, Equatable {
    /// The pseudo-scope of methods that need no credential.
    public static let publicScope = "public"

    /// The built-in table.
    public static let builtIn: [String: String] = [
        "rampart.v1.Health/Check": publicScope,
        "rampart.v1.Auth/IssueToken": publicScope,
        "rampart.v1.Inference/*": "infer",
        "rampart.v1.Finetune/*": "finetune",
        "rampart.v1.Auth/*": "admin",
        "rampart.v1.Admin/*": "admin",
        "rampart.v1.Plugins/*": "admin",
        "rampart.v1.Config/*": "admin",
        "rampart.v1.Models/*": "admin",
    ]

    /// method or `service/*` → scope.
    public private(set) var rules: [String: String]
    /// Request features (`logprobs`, `logit_bias`, `top_logprobs`, `tools` …) → an extra scope.
    public var featureScopes: [String: String]
    /// Scope of methods no rule covers.
    public var defaultScope: String
    /// Methods needing one of these scopes also need a TOTP code (step-up).
    public var mfaScopes: Set<String>

    /// The built-in table with `extra` rules on top.
    public init(extra: [String: String] = [:], featureScopes: [String: String] = [:], defaultScope: String = "admin",
                mfaScopes: Set<String> = ["admin"]) {
        rules = Self.builtIn.merging(extra.map { (Self.normalize($0.key), $0.value) }) { _, new in new }
        self.featureScopes = featureScopes
        self.defaultScope = defaultScope
        self.mfaScopes = mfaScopes
    }

    static func normalize(_ method: String) -> String {
        method.hasPrefix("/") ? String(method.dropFirst()) : method
    }

    /// The scope `method` needs (`public` for none).
    public func scope(for method: String) -> String {
        let name = Self.normalize(method)
        if let exact = rules[name] { return exact }
        if let slash = name.utf8.firstIndex(of: UInt8(ascii: "/")), let service = rules[name[..<slash] + "/*"] { return service }
        return defaultScope
    }

    /// Every scope a call needs: the method's and those of the features it uses.
    public func requiredScopes(method: String, features: Set<String>) -> [String] {
        let methodScope = scope(for: method)
        if features.isEmpty || featureScopes.isEmpty {
            return methodScope == Self.publicScope ? [] : [methodScope]
        }
        var scopes = [methodScope]
        for feature in features.sorted() {
            if let scope = featureScopes[feature], !scopes.contains(scope) { scopes.append(scope) }
        }
        return scopes.filter { $0 != Self.publicScope }
    }

    /// Whether `method` needs no credential at all (and no feature rule applies).
    public func isPublic(method: String, features: Set<String>) -> Bool {
        requiredScopes(method: method, features: features).isEmpty
    }

    /// Whether `method` needs a TOTP step-up.
    public func needsMFA(method: String) -> Bool { mfaScopes.contains(scope(for: method)) }
}
