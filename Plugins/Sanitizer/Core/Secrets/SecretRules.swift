/// Credential detectors (48 kinds). Provider formats with a fixed prefix are matched as such;
/// keyword-anchored kinds (`password = …`, `aws_secret_access_key = …`) redact only the value and
/// demand a plausible value (not empty, not a placeholder, enough entropy where it applies).
public enum SecretRules {
    /// Every secret rule.
    public static let all: [SensitiveRule] = [
        // Cloud
        prefixed("AWS_ACCESS_KEY", #"\b(AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"#),
        keyed("AWS_SECRET_ACCESS_KEY", #"aws_?(secret)?_?(access)?_?key"#, value: #"[A-Za-z0-9/+=]{40}"#, minEntropy: 3.0,
              exactLength: true),
        prefixed("GCP_API_KEY", #"\bAIza[0-9A-Za-z_\-]{35}\b"#),
        prefixed("GCP_OAUTH_CLIENT_SECRET", #"\bGOCSPX-[0-9A-Za-z_\-]{28}\b"#),
        prefixed("GCP_OAUTH_ACCESS_TOKEN", #"\bya29\.[0-9A-Za-z_\-]{30,200}"#),
        prefixed("GCP_SERVICE_ACCOUNT", #""type"\s{0,4}:\s{0,4}"service_account""#),
        SensitiveRule("AZURE_STORAGE_KEY", .secret, #"AccountKey=[A-Za-z0-9+/]{86,88}={0,2}"#, priority: 9) { text, range in
            (range.lowerBound + 11)..<range.upperBound
        },
        prefixed("AZURE_SAS_TOKEN", #"\bsig=[A-Za-z0-9%]{43,60}(%3D|=)"#),
        keyed("AZURE_CLIENT_SECRET", #"(azure|client)_?secret"#, value: #"[A-Za-z0-9_~.\-]{34,40}"#, minEntropy: 3.5),
        prefixed("DIGITALOCEAN_TOKEN", #"\bdo[opr]_v1_[a-f0-9]{64}\b"#),
        prefixed("IBM_CLOUD_IAM_KEY_PREFIXED", #"\bApiKey-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\b"#),
        // IBM credentials: the key names IBM's tools use, each with its exact value length.
        keyed("IBM_CLOUD_IAM_KEY", #"((ibm|cloud|iam)[_\-]?(cloud|iam)?[_\-]?)?(api[_\-]?key|key|pwd|password|pass|token)"#,
              value: #"[A-Za-z0-9_\-]{44}"#, exactLength: true),
        keyed("IBM_COS_HMAC_CREDENTIALS", #"((ibm)?[_\-]?cos[_\-]?(hmac)?[_\-]?)?secret[_\-]?(access[_\-]?)?key"#, value: #"[a-f0-9]{48}"#,
              exactLength: true),
        keyed("SOFTLAYER_API_KEY", #"(softlayer|sl)[_\-]?(api)?[_\-]?(key|pwd|password|pass|token)"#, value: #"[a-z0-9]{64}"#,
              exactLength: true),
        SensitiveRule("SOFTLAYER_API_KEY", .secret, #"https?://api\.softlayer\.com/soap/v3(\.1)?/[a-z0-9]{64}\b"#, caseless: true,
                      priority: 9) { _, range in
            (range.upperBound - 64)..<range.upperBound
        },
        keyed("CLOUDANT_CREDENTIALS", #"(cloudant|cl|clou)[_\-]?(api)?[_\-]?(key|pwd|pw|password|pass|token)"#,
              value: #"([0-9a-f]{64}|[a-z]{24})"#, exactLength: true),
        SensitiveRule("CLOUDANT_CREDENTIALS", .secret, #"[A-Za-z0-9]@[A-Za-z0-9_\-]{1,64}\.cloudant\.com"#, priority: 9) { text, range in
            // Anchored on "@host.cloudant.com"; the password before it is found in Swift.
            let at = range.lowerBound + 1
            let start = Text.extendLeft(text, to: at, limit: 64, Text.isAlnum)
            guard at - start >= 24, start > 0, text[start - 1] == 0x3A else { return nil }
            return start..<at
        },
        prefixed("HEROKU_API_KEY", #"\bHRKU-[A-Za-z0-9_\-]{60}\b"#),
        prefixed("ALIBABA_ACCESS_KEY", #"\bLTAI[A-Za-z0-9]{20}\b"#),
        // Source control and CI
        prefixed("GITHUB_TOKEN", #"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"#),
        prefixed("GITHUB_FINE_GRAINED_TOKEN", #"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b"#),
        // GitLab token prefixes with their documented body lengths (the body is grown in Swift).
        prefixed("GITLAB_TOKEN", #"\b(glpat|gldt|glrt|glft|glsoat|glimt|glptt|glagent|gloas|glcbt)-[A-Za-z0-9_\-]{20}|\bGR1348941[A-Za-z0-9_\-]{20}"#) { text, range in
            gitlabToken(text, range)
        },
        prefixed("BITBUCKET_APP_PASSWORD", #"\bATBB[A-Za-z0-9_=.\-]{32}\b"#),
        prefixed("NPM_TOKEN", #"\bnpm_[A-Za-z0-9]{36}\b"#),
        SensitiveRule("NPM_TOKEN", .secret, #"//[a-z0-9.\-]{1,100}/:_authToken= ?[A-Za-z0-9_\-]{8,64}"#, priority: 9) { text, range in
            let value = Array(text[range])
            guard let eq = value.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            var start = eq + 1
            while start < value.count, value[start] == 0x20 { start += 1 }
            return (range.lowerBound + start)..<range.upperBound
        },
        // PyPI macaroons: the base64 of the location (pypi.org or test.pypi.org), then at least 70 more.
        prefixed("PYPI_TOKEN", #"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{70,}|\bpypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_\-]{70,}"#),
        prefixed("ARTIFACTORY_TOKEN", #"\bAKC[a-zA-Z0-9]{10,}|\bAP[0-9ABCDEF][a-zA-Z0-9]{8,}"#) { text, range in
            // Artifactory's AP tokens are long; short ones need the word nearby.
            range.count >= 60 || Text.hasContext(text, range, ["artifactory", "jfrog", "x-jfrog", "arti"], window: 64)
                || String(decoding: text[range], as: UTF8.self).range(of: "xxxx") != nil ? range : nil
        },
        prefixed("TERRAFORM_CLOUD_TOKEN", #"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}"#),
        prefixed("HASHICORP_VAULT_TOKEN", #"\bhv[sb]\.[A-Za-z0-9_\-]{24,}"#),
        prefixed("DOPPLER_TOKEN", #"\bdp\.(pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b"#),
        prefixed("DATABRICKS_TOKEN", #"\bdapi[a-f0-9]{32}(-[0-9])?\b"#),
        // Chat and messaging
        prefixed("SLACK_TOKEN", #"\bxox[abposre]-[0-9A-Za-z\-]{10}"#) { text, range in
            range.lowerBound..<Text.extendRight(text, from: range.upperBound, limit: 240) { Text.isAlnum($0) || $0 == 0x2D }
        },
        prefixed("SLACK_APP_TOKEN", #"\bxapp-[0-9]-[A-Z0-9]{9,11}-[0-9]{10,13}-[a-z0-9]{64}\b"#),
        prefixed("SLACK_WEBHOOK", #"https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,120}"#),
        prefixed("DISCORD_BOT_TOKEN", #"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}\b"#),
        prefixed("DISCORD_WEBHOOK", #"https://(ptb\.|canary\.)?discord(app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68}"#),
        prefixed("TELEGRAM_BOT_TOKEN", #"\b[0-9]{8,10}:AA[0-9A-Za-z_\-]{33}\b"#),
        prefixed("TWILIO_API_KEY", #"\b(SK|AC)[0-9a-fx]{32}\b"#) { text, range in
            // Lower-case hex only; SK/AC + 32 x is the documented placeholder shape, still a key slot.
            range
        },
        prefixed("SENDGRID_API_KEY", #"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"#),
        prefixed("MAILGUN_API_KEY", #"\bkey-[0-9a-z]{32}\b"#),
        prefixed("MAILCHIMP_API_KEY", #"\b[0-9a-f]{32}-us[0-9]{1,2}\b"#),
        // Payments and SaaS
        prefixed("STRIPE_API_KEY", #"\b(sk|rk)_(live|test)_[0-9A-Za-z]{20,247}\b"#),
        prefixed("STRIPE_WEBHOOK_SECRET", #"\bwhsec_[A-Za-z0-9]{32,}\b"#),
        prefixed("SQUARE_OAUTH_SECRET", #"\bsq0csp-[0-9A-Za-z_\-]{43}"#),
        prefixed("SQUARE_ACCESS_TOKEN", #"\b(sq0atp-[0-9A-Za-z_\-]{22}|EAAA[A-Za-z0-9_\-]{60})\b"#),
        prefixed("SHOPIFY_TOKEN", #"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}\b"#),
        prefixed("NEW_RELIC_KEY", #"\bNR(AK|II|AA)-[A-Za-z0-9]{27}\b"#),
        prefixed("GRAFANA_TOKEN", #"\b(glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})"#),
        prefixed("SENTRY_TOKEN", #"\bsntr[ysu]_[A-Za-z0-9+/=_\-]{40,}"#),
        prefixed("POSTMAN_API_KEY", #"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"#),
        prefixed("LINEAR_API_KEY", #"\blin_api_[A-Za-z0-9]{40}\b"#),
        prefixed("NOTION_TOKEN", #"\b(secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})\b"#),
        prefixed("AIRTABLE_TOKEN", #"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b"#),
        prefixed("FACEBOOK_ACCESS_TOKEN", #"\bEAACEdEose0cBA[0-9A-Za-z]{20,}"#),
        prefixed("DROPBOX_TOKEN", #"\bsl\.[A-Za-z0-9_\-]{130,152}"#),
        // AI providers
        prefixed("OPENAI_API_KEY", #"\bsk-[A-Za-z0-9_\-]{20}"#) { text, range in
            // Grown in Swift: legacy keys carry "T3BlbkFJ", project/service keys are long.
            let end = Text.extendRight(text, from: range.upperBound, limit: 200, Text.isToken)
            let value = String(decoding: text[range.lowerBound..<end], as: UTF8.self)
            if value.hasPrefix("sk-ant-") { return nil }
            let long = (value.hasPrefix("sk-proj-") || value.hasPrefix("sk-svcacct-") || value.hasPrefix("sk-admin-")) && value.count >= 80
            guard value.contains("T3BlbkFJ") || long else { return nil }
            if end < text.count, Text.isAlnum(text[end]) { return nil }
            return range.lowerBound..<end
        },
        prefixed("ANTHROPIC_API_KEY", #"\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,100}"#),
        prefixed("HUGGINGFACE_TOKEN", #"\bhf_[A-Za-z]{34}\b"#),
        prefixed("REPLICATE_TOKEN", #"\br8_[A-Za-z0-9]{37}\b"#),
        prefixed("GROQ_API_KEY", #"\bgsk_[A-Za-z0-9]{52}\b"#),
        // Formats
        SensitiveRule("JWT", .secret, #"\beyJ[A-Za-z0-9_\-]{8}"#, priority: 8) { text, range in
            // Grown in Swift over base64url and dots (at most 8 KiB), then checked: two or three
            // parts, the second starting with eyJ, the header decoding to JSON.
            var end = Text.extendRight(text, from: range.lowerBound, limit: 8192) { Text.isToken($0) || $0 == 0x2E }
            while end > range.lowerBound, text[end - 1] == 0x2E { end -= 1 }
            let parts = text[range.lowerBound..<end].split(separator: 0x2E, omittingEmptySubsequences: false)
            guard (2...3).contains(parts.count), parts[1].starts(with: Array("eyJ".utf8)), parts[1].count >= 5 else { return nil }
            let full = range.lowerBound..<end
            // Header and payload must both decode to JSON objects (a JWS always has them).
            guard isJSONObject(parts[0]), isJSONObject(parts[1]) else { return nil }
            return full
        },
        SensitiveRule("PRIVATE_KEY", .secret, #"-----BEGIN[ A-Z0-9]{0,30} PRIVATE KEY( BLOCK)?-----"#, priority: 10) { text, range in
            // The whole block up to its END line (within 16 KiB), or to the end of the text.
            let limit = min(text.count, range.upperBound + 16384)
            let end = Array("-----END".utf8)
            if let found = findSequence(Array(text[range.upperBound..<limit]), end) {
                var stop = range.upperBound + found + end.count
                while stop < limit, text[stop] != 0x0A { stop += 1 }
                return range.lowerBound..<stop
            }
            return range.lowerBound..<limit
        },
        prefixed("AGE_SECRET_KEY", #"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b"#),
        SensitiveRule("BASIC_AUTH_CREDENTIALS", .secret,
                      #"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/?#@"'<>]{1,128}:[^\s/?#@"'<>]{1,128}@[A-Za-z0-9.\-]{1,253}"#,
                      caseless: true, priority: 7) { text, range in
            credentialInURL(text, range)
        },
        SensitiveRule("PASSWORD_OR_SECRET_ASSIGNMENT", .secret, assignmentKeys, caseless: true, priority: 3) { text, range in
            assignment(text, keyword: range)
        },
        SensitiveRule("PASSWORD_OR_SECRET_ASSIGNMENT", .secret,
                      #"["']\s{0,4}(===|!==|==|!=)\s{0,4}[A-Za-z0-9_.]{0,30}"# + assignmentKeys, caseless: true, priority: 3) { text, range in
            reversedComparison(text, range)
        },
        SensitiveRule("HIGH_ENTROPY_SECRET", .secret, #"["'][A-Za-z0-9+/=_\-]{32,256}["']"#, priority: 1) { text, range in
            let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
            let value = text[inner]
            let hex = value.allSatisfy { Text.isDigit($0) || ($0 >= 0x61 && $0 <= 0x66) }
            let threshold = hex ? 3.0 : 4.5
            guard Checksums.entropy(value) >= threshold, value.contains(where: Text.isDigit) || !hex else { return nil }
            return inner
        },
    ]

    /// A rule whose whole match is the secret.
    static func prefixed(_ type: String, _ expression: String,
                         validate: (@Sendable ([UInt8], Range<Int>) -> Range<Int>?)? = nil) -> SensitiveRule {
        SensitiveRule(type, .secret, expression, priority: 9, validate: validate ?? { _, r in r })
    }

    /// `<key> = "<value>"`-style rules: redacts the value only.
    static func keyed(_ type: String, _ key: String, value: String, minEntropy: Double = 0, exactLength: Bool = false) -> SensitiveRule {
        let expression = key + #"["']?\s{0,4}(:=|=>|=|:)?\s{0,4}["']?"# + value + (exactLength ? #"(["'\s,;]|$)"# : "")
        return SensitiveRule(type, .secret, expression, caseless: true, priority: 8) { text, range in
            var end = range.upperBound
            while end > range.lowerBound, [0x22, 0x27, 0x20, 0x0A, 0x09, 0x2C, 0x3B].contains(text[end - 1]) { end -= 1 }
            if exactLength, end < text.count, text[end] != 0x22, text[end] != 0x27, range.upperBound == end,
               Text.isAlnum(text[end]) || text[end] == 0x2D || text[end] == 0x5F { return nil }
            // The value: the trailing run of value characters.
            var start = end
            while start > range.lowerBound, !([0x22, 0x27, 0x20, 0x3D, 0x3A, 0x09, 0x3E].contains(text[start - 1])) { start -= 1 }
            guard start < end else { return nil }
            if minEntropy > 0, Checksums.entropy(text[start..<end]) < minEntropy { return nil }
            return start..<end
        }
    }

    static let assignmentKeys = #"(pass(word|wd|phrase)?|pwd|secret|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?token|access[_\-]?token|client[_\-]?secret|private[_\-]?key|token|credentials?)"#
    /// Grows a keyword match (`password`) into `name <op> value` in Swift (bounded) and returns
    /// the value's range if it looks like a real secret.
    static func assignment(_ text: [UInt8], keyword: Range<Int>) -> Range<Int>? {
        // The rest of the identifier, an optional closing quote, spaces, the operator, spaces.
        var i = Text.extendRight(text, from: keyword.upperBound, limit: 40, Text.isToken)
        // C arrays: `char secret[25] = "…"`, `secret[] = "…"`.
        if i < text.count, text[i] == 0x5B {
            let close = Text.extendRight(text, from: i + 1, limit: 8, Text.isDigit)
            guard close < text.count, text[close] == 0x5D else { return nil }
            i = close + 1
        }
        // Constructors and assign calls with a literal: `string secret("…")`, `secret.assign("…")`.
        let assign = Array(".assign(".utf8)
        var call = -1
        if i < text.count, text[i] == 0x28 { call = i + 1 }
        if i + assign.count <= text.count, text[i..<(i + assign.count)].elementsEqual(assign) { call = i + assign.count }
        if call >= 0 {
            guard call < text.count, text[call] == 0x22 || text[call] == 0x27 else { return nil }
            let quote = text[call]
            let end = Text.extendRight(text, from: call + 1, limit: 200) { $0 != quote && $0 != 0x0A }
            guard end < text.count, text[end] == quote else { return nil }
            return plausibleLiteral(text, (call + 1)..<end)
        }
        if i < text.count, text[i] == 0x22 || text[i] == 0x27 { i += 1 }
        let opStart = i
        i = Text.extendRight(text, from: i, limit: 4) { $0 == 0x20 || $0 == 0x09 }
        // Assignments, and comparisons with a quoted literal (a hard-coded secret either way);
        // `name "value"` (nginx/Go-style) when the value is quoted.
        let ops: [[UInt8]] = [Array("===".utf8), Array("!==".utf8), Array(":=".utf8), Array("=>".utf8), Array("==".utf8),
                              Array("!=".utf8), Array("=".utf8), Array(":".utf8)]
        let op = ops.first(where: { i + $0.count <= text.count && Array(text[i..<(i + $0.count)]) == $0 }) ?? []
        let comparison = op.count >= 2 && op != Array(":=".utf8) && op != Array("=>".utf8)
        if op.isEmpty {
            guard i > opStart, i < text.count, text[i] == 0x22 || text[i] == 0x27 else { return nil }
        }
        if comparison {
            let after = Text.extendRight(text, from: i + op.count, limit: 4) { $0 == 0x20 }
            guard after < text.count, text[after] == 0x22 || text[after] == 0x27 else { return nil }
        }
        i += op.count
        i = Text.extendRight(text, from: i, limit: 4) { $0 == 0x20 || $0 == 0x09 }
        guard i < text.count else { return nil }
        // Objective-C string literals: @"…".
        if text[i] == 0x40, i + 1 < text.count, text[i + 1] == 0x22 { i += 1 }
        var end: Int
        if text[i] == 0x22 || text[i] == 0x27 {
            let quote = text[i]
            end = Text.extendRight(text, from: i + 1, limit: 200) { $0 != quote && $0 != 0x0A }
            guard end < text.count, text[end] == quote else { return nil }
            end += 1
        } else {
            end = Text.extendRight(text, from: i, limit: 200) { !StreamRedactor.isSpace($0) && $0 != 0x22 && $0 != 0x27 && $0 != 0x2C && $0 != 0x3B }
        }
        _ = opStart
        let start = Text.extendLeft(text, to: keyword.lowerBound, limit: 40) { Text.isToken($0) || $0 == 0x2E }
        return assignmentValue(text, start..<end)
    }

    static let placeholders: Set<String> = [
        "", "none", "null", "nil", "true", "false", "password", "secret", "changeme", "change_me", "xxx", "xxxx", "****",
        "example", "redacted", "<password>", "your_password", "yourpassword", "insert_key_here", "todo", "tbd", "undefined",
        "somefakekey", "fake", "dummy", "test", "placeholder", "value",
    ]

    /// The value of a `key = value` assignment if it looks like a real secret.
    static func assignmentValue(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let value = Array(text[range])
        // Find the operator after the key: the first of = : or whitespace after the key word.
        guard let op = value.firstIndex(where: { $0 == 0x3D || $0 == 0x3A || $0 == 0x20 || $0 == 0x09 || $0 == 0x3E }) else { return nil }
        var start = op
        while start < value.count, [0x3D, 0x3A, 0x20, 0x09, 0x3E, 0x21].contains(value[start]) { start += 1 }
        guard start < value.count else { return nil }
        if value[start] == 0x40, start + 1 < value.count, value[start + 1] == 0x22 { start += 1 }
        var end = value.count
        let quoted = value[start] == 0x22 || value[start] == 0x27
        if quoted {
            start += 1
            end -= 1
            guard start < end, value[end] == value[start - 1] else { return nil }
        }
        let body = value[start..<end]
        let lowered = String(decoding: body, as: UTF8.self).lowercased()
        if placeholders.contains(lowered) { return nil }
        // Interpolations and references, not values: ${x}, %s, {{x}}, $VAR, <x>, os.environ[...].
        if lowered.hasPrefix("${") || lowered.hasPrefix("$") && body.count > 1 && Text.isUpper(body[body.startIndex + 1])
            || lowered.hasPrefix("%") || lowered.hasPrefix("{{") || lowered.hasPrefix("<") && lowered.hasSuffix(">")
            || lowered.hasPrefix("os.") || lowered.hasPrefix("process.env") || lowered.hasPrefix("env[")
            || lowered.hasPrefix("getenv") || lowered.hasPrefix("settings.") || lowered.hasPrefix("config.") { return nil }
        // Unquoted values after a bare space are prose ("the password is ...") unless they look
        // like a token: no spaces, mixed character classes, some length.
        let separatorIsSpace = !value[op..<(quoted ? start - 1 : start)].contains(where: { $0 == 0x3D || $0 == 0x3A })
        if separatorIsSpace && !quoted { return nil }
        if !quoted {
            // An identifier-like value (a variable name) is not a secret.
            let isIdentifier = body.allSatisfy { Text.isAlnum($0) || $0 == 0x5F || $0 == 0x2E } && body.contains(0x2E)
            if isIdentifier || body.count < 4 { return nil }
            // A call such as getToken() or os.getenv("X"): identifier characters, then "(", ending in ")".
            if let paren = body.firstIndex(of: 0x28), paren > body.startIndex, body.last == 0x29,
               body[body.startIndex..<paren].allSatisfy({ Text.isAlnum($0) || $0 == 0x5F || $0 == 0x2E }) { return nil }
        } else if body.count < 3 {
            return nil
        }
        if body.allSatisfy({ $0 == body.first }) { return nil }
        return (range.lowerBound + start)..<(range.lowerBound + end)
    }

    static let jwtParser = JSONParser(limits: JSONLimits(maxBytes: 8192, maxDepth: 16, maxValues: 1000, maxStringBytes: 8192))

    /// Whether a base64url segment decodes to a JSON object.
    static func isJSONObject(_ segment: ArraySlice<UInt8>) -> Bool {
        guard let decoded = Base64URL.decode(Array(segment)), decoded.first == UInt8(ascii: "{"),
              case .object = try? jwtParser.parse(decoded) else { return false }
        return true
    }

    /// Body lengths per GitLab token prefix.
    static let gitlabLengths: [String: ClosedRange<Int>] = [
        "glpat-": 20...50, "gldt-": 20...50, "glrt-": 20...50, "glft-": 20...50, "glsoat-": 20...50, "GR1348941": 20...50,
        "glimt-": 25...25, "glptt-": 40...40, "glagent-": 50...1024, "gloas-": 64...64, "glcbt-": 20...26,
    ]

    static func gitlabToken(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let end = Text.extendRight(text, from: range.lowerBound, limit: 1100, Text.isToken)
        if end < text.count, Text.isToken(text[end]) { return nil }
        let token = String(decoding: text[range.lowerBound..<end], as: UTF8.self)
        guard let prefix = gitlabLengths.keys.first(where: { token.hasPrefix($0) }), let lengths = gitlabLengths[prefix],
              lengths.contains(token.utf8.count - prefix.utf8.count) else { return nil }
        // Not a placeholder run (XXXX…).
        return Set(text[(range.lowerBound + prefix.utf8.count)..<end]).count >= 6 ? range.lowerBound..<end : nil
    }

    /// A quoted literal's body (`range`, quotes excluded) if it is not a placeholder, reference or
    /// repeated character.
    static func plausibleLiteral(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        guard range.count >= 3 else { return nil }
        let body = text[range]
        let lowered = String(decoding: body, as: UTF8.self).lowercased()
        if placeholders.contains(lowered) || lowered.hasPrefix("${") || lowered.hasPrefix("{{") || lowered.hasPrefix("%") { return nil }
        if let first = body.first, body.allSatisfy({ $0 == first }) { return nil }
        return range
    }

    /// A literal compared with a secret-named variable, literal first:
    /// `if ("…" == password)`. Anchored on the operator and the name; the literal is found to
    /// the left in Swift (same line, at most 200 bytes).
    static func reversedComparison(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let closing = range.lowerBound
        let quote = text[closing]
        let open = Text.extendLeft(text, to: closing, limit: 200) { $0 != quote && $0 != 0x0A }
        guard open > 0, text[open - 1] == quote else { return nil }
        // The name must end there (password, not passwordHint…: any identifier holding the word).
        return plausibleLiteral(text, open..<closing)
    }

    /// The `user:password` part of a URL with credentials (the password only).
    static func credentialInURL(_ text: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        let value = Array(text[range])
        guard let scheme = findSequence(value, Array("://".utf8)) else { return nil }
        let authorityStart = scheme + 3
        guard let at = value.lastIndex(of: UInt8(ascii: "@")), at > authorityStart,
              let colon = value[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let password = String(decoding: value[(colon + 1)..<at], as: UTF8.self).lowercased()
        if placeholders.contains(password) && password != "password" || password.hasPrefix("$") || password.hasPrefix("{") { return nil }
        // A port, not a password ("user@host:8080" never gets here: the colon is before @).
        return (range.lowerBound + colon + 1)..<(range.lowerBound + at)
    }

    static func findSequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}

/// Base64url decoding for JWT headers (padding optional).
enum Base64URL {
    static func decode(_ input: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in input {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2D, 0x2B: v = 62
            case 0x5F, 0x2F: v = 63
            case 0x3D: continue
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
