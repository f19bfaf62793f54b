import Foundation
import XCTest

@testable import RampartConfig

/// `[plugin_trust]`, `[chain]` and `[[plugins]]`.
final class PluginConfigTests: XCTestCase {
    static let full = """
        [plugin_trust]
        trusted_keys = ["keys/plugins.pub", "/etc/keys/second.pub"]
        allow_unsigned = false
        cache_dir = "cache/plugins"

        [chain]
        hold_back_bytes = 1024

        [[plugins]]
        name = "keyword-guard"
        path = "plugins/keyword-guard"
        config = "forbidden,secret"
        failure_mode = "open"
        timeout_ms = 250
        isolation = "process"
        enabled = false

        [[plugins]]
        name = "pii_redactor-2"
        path = "/opt/plugins/pii"
        """

    static var fullExpected: RampartConfig {
        var expected = RampartConfig.defaults(baseDirectory: testBase)
        expected.pluginTrust = RampartConfig.PluginTrust(
            trustedKeys: ["/etc/rampart/keys/plugins.pub", "/etc/keys/second.pub"], allowUnsigned: false,
            cacheDir: "/etc/rampart/cache/plugins")
        expected.chain = RampartConfig.Chain(holdBackBytes: 1024)
        expected.plugins = [
            RampartConfig.Plugin(
                name: "keyword-guard", path: "/etc/rampart/plugins/keyword-guard", config: "forbidden,secret",
                failureMode: .open, timeoutMs: 250, isolation: .process, enabled: false),
            RampartConfig.Plugin(name: "pii_redactor-2", path: "/opt/plugins/pii"),
        ]
        return expected
    }

    /// A config with one enabled plugin and a trusted key, plus `extra` lines in the entry.
    static func onePlugin(_ extra: String = "", name: String = "\"guard\"") -> String {
        "[plugin_trust]\ntrusted_keys = [\"k.pub\"]\n\n[[plugins]]\nname = \(name)\npath = \"p\"\n" + extra
    }

    // MARK: - Valid files and defaults

    func testFullPluginConfig() throws {
        let config = try parseConfig(Self.full)
        XCTAssertEqual(config, Self.fullExpected)
        XCTAssertEqual(config.plugins.map(\.name), ["keyword-guard", "pii_redactor-2"])
        XCTAssertEqual(config.plugins[0].configBytes, Array("forbidden,secret".utf8))
        XCTAssertEqual(config.plugins[0].timeout, .milliseconds(250))
        XCTAssertNoThrow(try config.validate())
    }

    func testEveryPluginKeyDiffersFromItsDefaultInTheFullFile() throws {
        // Guards the test above: a key left at its default would not prove it is read.
        let entry = try parseConfig(Self.full).plugins[0]
        let defaults = RampartConfig.Plugin(name: "", path: "")
        XCTAssertNotEqual(entry.config, defaults.config)
        XCTAssertNotEqual(entry.failureMode, defaults.failureMode)
        XCTAssertNotEqual(entry.timeoutMs, defaults.timeoutMs)
        XCTAssertNotEqual(entry.isolation, defaults.isolation)
        XCTAssertNotEqual(entry.enabled, defaults.enabled)
        let config = try parseConfig(Self.full)
        XCTAssertNotEqual(config.chain, RampartConfig.Chain())
        XCTAssertNotEqual(config.pluginTrust.trustedKeys, RampartConfig.PluginTrust().trustedKeys)
        XCTAssertEqual(try parseConfig("[plugin_trust]\nallow_unsigned = true\n").pluginTrust.allowUnsigned, true)
    }

    func testDefaults() throws {
        let config = try parseConfig("")
        XCTAssertEqual(config.pluginTrust.trustedKeys, [])
        XCTAssertFalse(config.pluginTrust.allowUnsigned)
        XCTAssertEqual(config.pluginTrust.cacheDir, "/etc/rampart/run/plugin-cache")
        XCTAssertEqual(config.chain.holdBackBytes, 256)
        XCTAssertEqual(config.plugins, [])
        XCTAssertEqual(try parseConfig("[plugin_trust]\n[chain]\n"), config)

        let plugin = try parseConfig(Self.onePlugin()).plugins
        XCTAssertEqual(plugin, [RampartConfig.Plugin(name: "guard", path: "/etc/rampart/p")])
        XCTAssertEqual(plugin.first?.config, "")
        XCTAssertEqual(plugin.first?.configBytes, [])
        XCTAssertEqual(plugin.first?.failureMode, .closed)
        XCTAssertEqual(plugin.first?.timeoutMs, 100)
        XCTAssertEqual(plugin.first?.isolation, .inprocess)
        XCTAssertEqual(plugin.first?.enabled, true)

        XCTAssertEqual(RampartConfig.PluginTrust(), RampartConfig.PluginTrust(trustedKeys: []))
        XCTAssertEqual(RampartConfig.PluginTrust().cacheDir, "run/plugin-cache")
        XCTAssertEqual(RampartConfig().plugins, [])
    }

    func testDevKeepsNoPluginsAndRequiresSignatures() throws {
        let dev = RampartConfig.dev(runDirectory: "/run/rampart-dev")
        XCTAssertEqual(dev.plugins, [])
        XCTAssertFalse(dev.pluginTrust.allowUnsigned)
        XCTAssertEqual(dev.pluginTrust.trustedKeys, [])
        XCTAssertEqual(dev.pluginTrust.cacheDir, "/run/rampart-dev/plugin-cache")
        XCTAssertEqual(dev.chain, RampartConfig.Chain())
        XCTAssertNoThrow(try dev.validate())
    }

    func testInlineArrayOfTablesForm() throws {
        let config = try parseConfig(
            """
            plugin_trust = { trusted_keys = ["k.pub"] }
            plugins = [
              { name = "a", path = "pa" },
              { name = "b", path = "pb", enabled = false },
            ]
            """)
        XCTAssertEqual(config.plugins.map(\.name), ["a", "b"])
        XCTAssertEqual(config.plugins.map(\.enabled), [true, false])
        let error = configError(
            "plugins = [\n  { name = \"a\", path = \"pa\" },\n  { name = \"b\", pth = \"pb\" },\n]\n"
                + "plugin_trust.trusted_keys = [\"k.pub\"]\n")
        XCTAssertEqual(
            error.issues.map(\.description),
            [
                "3: unknown key 'plugins[1].pth' (did you mean 'plugins[1].path'?)",
                "3: plugins[1].path: required",
            ])
    }

    func testNameEdgeCasesThatAreValid() throws {
        for name in ["a", "0", "9lives", "a_b-c", "guard-", String(repeating: "x", count: 64)] {
            XCTAssertEqual(try parseConfig(Self.onePlugin(name: TOMLText.quoted(name))).plugins.first?.name, name)
        }
    }

    func testBoundariesAreAccepted() throws {
        for timeout in [1, 60000] {
            XCTAssertEqual(try parseConfig(Self.onePlugin("timeout_ms = \(timeout)\n")).plugins[0].timeoutMs, timeout)
        }
        for bytes in [0, 65536] {
            XCTAssertEqual(try parseConfig("[chain]\nhold_back_bytes = \(bytes)\n").chain.holdBackBytes, bytes)
        }
    }

    // MARK: - Unknown and missing keys

    func testUnknownKeyInAPluginEntryNamesItsIndex() {
        let error = configError(
            """
            [plugin_trust]
            trusted_keys = ["k.pub"]

            [[plugins]]
            name = "first"
            path = "p1"

            [[plugins]]
            name = "second"
            path = "p2"
            timout_ms = 50
            """)
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .unknownKey)
        XCTAssertEqual(issue?.keyPath, "plugins[1].timout_ms")
        XCTAssertEqual(issue?.line, 11)
        XCTAssertEqual(
            error.description, "rampart.toml:11: unknown key 'plugins[1].timout_ms' (did you mean 'plugins[1].timeout_ms'?)")
    }

    func testUnknownKeySuggestionsAcrossPluginSections() {
        let cases: [(String, String)] = [
            (Self.onePlugin("failuremode = \"open\"\n"), "'plugins[0].failure_mode'"),
            (Self.onePlugin("enable = false\n"), "'plugins[0].enabled'"),
            (Self.onePlugin("hold_back_bytes = 1\n"), "'chain.hold_back_bytes'"),
            ("[plugin_trust]\ntrusted_key = [\"k\"]\n", "'plugin_trust.trusted_keys'"),
            ("[plugin_trust]\nallow_unsinged = true\n", "'plugin_trust.allow_unsigned'"),
            ("[plugin_trust]\ncache = \"x\"\n", "'plugin_trust.cache_dir'"),
            ("[plugin_trust]\ntimeout_ms = 5\n", "'plugins[].timeout_ms'"),
            ("[chain]\nhold_back = 1\n", "'chain.hold_back_bytes'"),
            ("[chian]\nhold_back_bytes = 1\n", "'chain'"),
            ("[plugins_trust]\n", "'plugin_trust'"),
            ("hold_back_bytes = 1\n", "'chain.hold_back_bytes'"),
            // The last part of a key names it too.
            (Self.onePlugin("mode = \"open\"\n"), "'plugins[0].failure_mode'"),
            ("[plugin_trust]\nkeys = []\n", "'plugin_trust.trusted_keys'"),
            ("[backend]\npath = \"x\"\n", "'backend.model_path'"),
        ]
        for (toml, suggestion) in cases {
            let error = configError(toml)
            XCTAssertEqual(error.issues.count, 1, "\(toml) → \(error)")
            XCTAssertTrue(error.description.hasSuffix("(did you mean \(suggestion)?)"), "\(toml) → \(error)")
        }
    }

    func testUnknownSubtableOfAPluginEntry() {
        let error = configError(Self.onePlugin("[plugins.options]\nx = 1\n"))
        XCTAssertEqual(error.issues.map(\.keyPath), ["plugins[0].options"])
        XCTAssertEqual(error.issues.first?.line, 7)
    }

    func testMissingRequiredKeys() {
        let error = configError(
            """
            [plugin_trust]
            trusted_keys = ["k.pub"]

            [[plugins]]
            name = "no-path"

            [[plugins]]
            path = "plugins/no-name"

            [[plugins]]
            """)
        XCTAssertEqual(error.issues.map(\.kind), Array(repeating: .missingKey, count: 4))
        XCTAssertEqual(
            error.description,
            """
            rampart.toml:4: plugins[0].path: required
            rampart.toml:7: plugins[1].name: required
            rampart.toml:10: plugins[2].name: required
            rampart.toml:10: plugins[2].path: required
            """)
    }

    // MARK: - Values

    func testDuplicateNameIsReportedOnTheDuplicatesLine() {
        let error = configError(
            """
            [plugin_trust]
            trusted_keys = ["k.pub"]

            [[plugins]]
            name = "guard"
            path = "a"

            [[plugins]]
            name = "other"
            path = "b"

            [[plugins]]
            path = "c"
            name = "guard"
            """)
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(issue?.keyPath, "plugins[2].name")
        XCTAssertEqual(
            error.description, "rampart.toml:14: plugins[2].name: duplicate plugin name \"guard\", already used by plugins[0]")
    }

    func testEveryRepetitionOfANameIsReported() {
        var toml = "[plugin_trust]\ntrusted_keys = [\"k.pub\"]\n"
        for index in 0..<3 { toml += "[[plugins]]\nname = \"same\"\npath = \"p\(index)\"\n" }
        let error = configError(toml)
        XCTAssertEqual(error.issues.map(\.keyPath), ["plugins[1].name", "plugins[2].name"])
        XCTAssertEqual(error.issues.map(\.line), [7, 10])
        XCTAssertTrue(error.issues.allSatisfy { $0.message.hasSuffix("already used by plugins[0]") }, "\(error)")
    }

    func testBadNamePattern() {
        let pattern = "must be 1 to 64 characters of a-z, 0-9, '_' and '-', starting with a letter or digit, got "
        let cases: [(String, String)] = [
            ("Keyword-Guard", pattern + "\"Keyword-Guard\" (did you mean \"keyword-guard\"?)"),
            ("-guard", pattern + "\"-guard\""),
            ("_guard", pattern + "\"_guard\""),
            ("key word", pattern + "\"key word\""),
            ("guard.v2", pattern + "\"guard.v2\""),
            ("gärd", pattern + "\"gärd\""),
            ("", "must not be empty"),
            (String(repeating: "x", count: 65), "must be at most 64 characters, got 65"),
        ]
        for (name, message) in cases {
            let error = configError(Self.onePlugin(name: TOMLText.quoted(name)))
            let issue = singleIssue(error)
            XCTAssertEqual(issue?.kind, .invalidValue, name)
            XCTAssertEqual(issue?.keyPath, "plugins[0].name", name)
            XCTAssertEqual(issue?.line, 5, name)
            XCTAssertEqual(issue?.message, message, name)
        }
    }

    func testOutOfRangeTimeoutAndHoldBack() {
        for timeout in [0, -5, 60001] {
            let error = configError(Self.onePlugin("timeout_ms = \(timeout)\n"))
            XCTAssertEqual(
                error.description, "rampart.toml:7: plugins[0].timeout_ms: must be between 1 and 60000, got \(timeout)")
            XCTAssertEqual(error.issues.first?.kind, .outOfRange)
        }
        for bytes in [-1, 65537] {
            let error = configError("[chain]\nhold_back_bytes = \(bytes)\n")
            XCTAssertEqual(
                error.description, "rampart.toml:2: chain.hold_back_bytes: must be between 0 and 65536, got \(bytes)")
        }
    }

    func testBadEnums() {
        let failure = configError(Self.onePlugin("failure_mode = \"close\"\n"))
        XCTAssertEqual(singleIssue(failure)?.kind, .invalidValue)
        XCTAssertEqual(
            failure.description,
            "rampart.toml:7: plugins[0].failure_mode: must be one of \"closed\" or \"open\", got \"close\" "
                + "(did you mean \"closed\"?)")
        let isolation = configError(Self.onePlugin("isolation = \"in-process\"\n"))
        XCTAssertEqual(
            isolation.description,
            "rampart.toml:7: plugins[0].isolation: must be one of \"inprocess\" or \"process\", got \"in-process\" "
                + "(did you mean \"inprocess\"?)")
        let sandbox = configError(Self.onePlugin("isolation = \"sandbox\"\n"))
        XCTAssertEqual(
            sandbox.description,
            "rampart.toml:7: plugins[0].isolation: must be one of \"inprocess\" or \"process\", got \"sandbox\"")
        let wrongType = configError(Self.onePlugin("failure_mode = true\n"))
        XCTAssertEqual(
            wrongType.description,
            "rampart.toml:7: plugins[0].failure_mode: expected a string, one of \"closed\" or \"open\", got boolean true")
    }

    func testWrongTypesInAPluginEntry() {
        let error = configError(
            Self.onePlugin("config = 5\ntimeout_ms = \"100\"\nenabled = \"false\"\n", name: "[\"x\"]"))
        XCTAssertEqual(
            error.description,
            """
            rampart.toml:5: plugins[0].name: expected a string, got an array
            rampart.toml:7: plugins[0].config: expected a string, or a table, got integer 5
            rampart.toml:8: plugins[0].timeout_ms: expected an integer, got string "100" (write the number without quotes)
            rampart.toml:9: plugins[0].enabled: expected a boolean (true or false), got string "false" (write false without quotes)
            """)
    }

    func testPluginsThatAreNotAnArrayOfTables() {
        let table = configError("[plugins]\nname = \"x\"\n")
        XCTAssertEqual(
            table.description, "rampart.toml:1: plugins: expected an array of tables ([[plugins]] entries), got a table")
        let strings = configError("plugins = [\"keyword-guard\"]\n")
        XCTAssertEqual(
            strings.description,
            "rampart.toml:1: plugins[0]: expected a table (one [[plugins]] entry), got string \"keyword-guard\"")
        XCTAssertEqual(strings.issues.first?.kind, .wrongType)
        // A broken entry does not shift the indices of the ones after it, nor add follow-on errors.
        let mixed = configError(
            "plugin_trust.trusted_keys = [\"k\"]\nplugins = [1, { name = \"a\", path = \"p\", timeout_ms = 0 }]\n")
        XCTAssertEqual(mixed.issues.map(\.keyPath), ["plugins[0]", "plugins[1].timeout_ms"])
    }

    // MARK: - Trust

    func testUnsignedWithoutKeysConflict() {
        let error = configError("[[plugins]]\nname = \"keyword-guard\"\npath = \"p\"\n")
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.kind, .conflict)
        XCTAssertEqual(issue?.keyPath, "plugin_trust.trusted_keys")
        XCTAssertEqual(
            error.description,
            "rampart.toml:1: plugin_trust.trusted_keys: is empty (the default) and plugin_trust.allow_unsigned = false "
                + "(the default), but plugin \"keyword-guard\" (plugins[0]) is enabled: list the public key its "
                + "signature is checked against, or set allow_unsigned = true (development only)")
    }

    func testUnsignedConflictNamesTheFirstEnabledPluginAndUsesTheBestLine() {
        let toml = """
            [plugin_trust]
            cache_dir = "c"
            allow_unsigned = false
            trusted_keys = []

            [[plugins]]
            name = "off"
            path = "a"
            enabled = false

            [[plugins]]
            name = "on"
            path = "b"

            [[plugins]]
            name = "also-on"
            path = "c"
            """
        let error = configError(toml)
        let issue = singleIssue(error)
        XCTAssertEqual(issue?.line, 4)
        XCTAssertEqual(
            issue?.message,
            "is empty and plugin_trust.allow_unsigned = false, but plugin \"on\" (plugins[1]) is enabled: list the "
                + "public key its signature is checked against, or set allow_unsigned = true (development only)")
        // Without trusted_keys in the file, the line is allow_unsigned's; without either, the plugin's.
        XCTAssertEqual(configError(toml.replacingOccurrences(of: "trusted_keys = []\n", with: "")).issues.first?.line, 3)
        XCTAssertEqual(
            configError(
                toml.replacingOccurrences(of: "trusted_keys = []\n", with: "")
                    .replacingOccurrences(of: "allow_unsigned = false\n", with: "")
            ).issues.first?.line, 9)
    }

    func testSignaturesAreNotNeededWhenAllowedOrWhenNothingIsEnabled() throws {
        let plugin = "[[plugins]]\nname = \"g\"\npath = \"p\"\n"
        XCTAssertEqual(try parseConfig("[plugin_trust]\nallow_unsigned = true\n" + plugin).plugins.count, 1)
        XCTAssertEqual(try parseConfig("[plugin_trust]\ntrusted_keys = [\"k.pub\"]\n" + plugin).plugins.count, 1)
        XCTAssertEqual(try parseConfig(plugin + "enabled = false\n").plugins.first?.enabled, false)
        XCTAssertEqual(try parseConfig("[plugin_trust]\ntrusted_keys = []\n").plugins, [])
    }

    func testUnsignedConflictIsSkippedWhenAnInvolvedKeyIsInvalid() {
        let plugin = "[[plugins]]\nname = \"g\"\npath = \"p\"\n"
        XCTAssertEqual(
            configError("[plugin_trust]\nallow_unsigned = \"yes\"\n" + plugin).issues.map(\.keyPath),
            ["plugin_trust.allow_unsigned"])
        XCTAssertEqual(
            configError("[plugin_trust]\ntrusted_keys = [1]\n" + plugin).issues.map(\.keyPath),
            ["plugin_trust.trusted_keys[0]"])
        XCTAssertEqual(configError(plugin + "enabled = 1\n").issues.map(\.keyPath), ["plugins[0].enabled"])
    }

    func testTrustedKeysWrongTypes() {
        let string = configError("[plugin_trust]\ntrusted_keys = \"keys/a.pub\"\n")
        XCTAssertEqual(singleIssue(string)?.kind, .wrongType)
        XCTAssertEqual(
            string.description,
            "rampart.toml:2: plugin_trust.trusted_keys: expected an array of strings (key file paths), got string "
                + "\"keys/a.pub\" (write a list, even for one key: [\"keys/a.pub\"])")

        let number = configError("[plugin_trust]\ntrusted_keys = [\"keys/a.pub\", 5]\n")
        XCTAssertEqual(singleIssue(number)?.keyPath, "plugin_trust.trusted_keys[1]")
        XCTAssertEqual(
            number.description,
            "rampart.toml:2: plugin_trust.trusted_keys[1]: expected a string, a key file path, got integer 5")

        XCTAssertEqual(
            configError("[plugin_trust]\ntrusted_keys = 1\n").description,
            "rampart.toml:2: plugin_trust.trusted_keys: expected an array of strings (key file paths), got integer 1")
        XCTAssertEqual(
            configError("[plugin_trust]\ntrusted_keys = [[\"a\"]]\n").description,
            "rampart.toml:2: plugin_trust.trusted_keys[0]: expected a string, a key file path, got an array")
    }

    func testTrustedKeyEntriesAreReportedOnTheirOwnLine() {
        let error = configError(
            """
            [plugin_trust]
            trusted_keys = [
              "keys/a.pub",
              "",
              "keys/b.pub",
              false,
            ]
            """)
        XCTAssertEqual(
            error.description,
            """
            rampart.toml:4: plugin_trust.trusted_keys[1]: must not be empty (a key file path)
            rampart.toml:6: plugin_trust.trusted_keys[3]: expected a string, a key file path, got boolean false
            """)
        XCTAssertEqual(error.issues.map(\.kind), [.invalidValue, .wrongType])
    }

    func testOtherTrustKeys() {
        XCTAssertEqual(
            configError("[plugin_trust]\ncache_dir = \"\"\n").description,
            "rampart.toml:2: plugin_trust.cache_dir: must not be empty")
        XCTAssertEqual(
            configError("[plugin_trust]\nallow_unsigned = 1\n").description,
            "rampart.toml:2: plugin_trust.allow_unsigned: expected a boolean (true or false), got integer 1")
        XCTAssertEqual(
            configError(Self.onePlugin().replacingOccurrences(of: "path = \"p\"", with: "path = \"\"")).description,
            "rampart.toml:6: plugins[0].path: must not be empty")
    }

    // MARK: - Paths

    func testRelativePathsResolveAgainstTheConfigDirectory() throws {
        let toml = """
            [plugin_trust]
            trusted_keys = ["keys/a.pub", "./b.pub", "../shared/c.pub", "/abs/d.pub"]
            cache_dir = "var//cache/"

            [[plugins]]
            name = "rel"
            path = "plugins/./rel/"

            [[plugins]]
            name = "abs"
            path = "/opt/plugins/abs"
            """
        let config = try parseConfig(toml, base: "/srv/app/")
        XCTAssertEqual(
            config.pluginTrust.trustedKeys,
            ["/srv/app/keys/a.pub", "/srv/app/b.pub", "/srv/app/../shared/c.pub", "/abs/d.pub"])
        XCTAssertEqual(config.pluginTrust.cacheDir, "/srv/app/var/cache")
        XCTAssertEqual(config.plugins.map(\.path), ["/srv/app/plugins/rel", "/opt/plugins/abs"])
        XCTAssertEqual(try parseConfig("", base: "/opt/r").pluginTrust.cacheDir, "/opt/r/run/plugin-cache")
        XCTAssertEqual(
            try parseConfig("[plugin_trust]\ncache_dir = \"/var/cache/rampart\"\n").pluginTrust.cacheDir,
            "/var/cache/rampart")
    }

    func testLoadResolvesPluginPathsAgainstTheFilesDirectory() throws {
        let directory = NSTemporaryDirectory() + "rampart-plugin-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/rampart.toml"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(Self.onePlugin().utf8)))
        let config = try ConfigLoader.load(path: path)
        let base = ConfigPath.normalize(directory)
        XCTAssertEqual(config.pluginTrust.trustedKeys, [base + "/k.pub"])
        XCTAssertEqual(config.pluginTrust.cacheDir, base + "/run/plugin-cache")
        XCTAssertEqual(config.plugins.first?.path, base + "/p")
    }

    // MARK: - Reporting, validation, rendering

    func testErrorsInSeveralEntriesAreReportedTogetherInFileOrder() {
        let error = configError(
            """
            [plugin_trust]
            trusted_keys = "k.pub"

            [chain]
            hold_back_bytes = 70000

            [[plugins]]
            name = "A"
            path = "a"
            timeout_ms = 0

            [[plugins]]
            name = "b"
            isolaton = "process"
            """)
        XCTAssertEqual(
            error.issues.map(\.keyPath),
            [
                "plugin_trust.trusted_keys", "chain.hold_back_bytes", "plugins[0].name", "plugins[0].timeout_ms",
                "plugins[1].path", "plugins[1].isolaton",
            ])
        XCTAssertEqual(error.issues.map(\.line), [2, 5, 8, 10, 12, 14])
    }

    func testValidateChecksPluginsBuiltInCode() {
        var config = RampartConfig.defaults(baseDirectory: "/srv")
        config.plugins = [
            RampartConfig.Plugin(name: "guard", path: "/p/guard"),
            RampartConfig.Plugin(name: "Bad Name", path: "", timeoutMs: 0),
            RampartConfig.Plugin(name: "guard", path: "/p/other"),
        ]
        config.pluginTrust.trustedKeys = ["/k.pub", ""]
        config.chain.holdBackBytes = 65537
        XCTAssertThrowsError(try config.validate(source: "code")) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)") }
            XCTAssertEqual(
                error.issues.map(\.keyPath),
                [
                    "plugin_trust.trusted_keys", "chain.hold_back_bytes", "plugins[1].name", "plugins[1].path",
                    "plugins[1].timeout_ms", "plugins[2].name",
                ])
            XCTAssertEqual(error.issues.first?.message, "entry 1 must not be empty (a key file path)")
            XCTAssertEqual(error.issues.last?.kind, .conflict)
        }

        var unsigned = RampartConfig.defaults(baseDirectory: "/srv")
        unsigned.plugins = [RampartConfig.Plugin(name: "guard", path: "/p/guard")]
        XCTAssertThrowsError(try unsigned.validate()) { error in
            XCTAssertEqual((error as? ConfigError)?.issues.map(\.keyPath), ["plugin_trust.trusted_keys"])
        }
        unsigned.pluginTrust.allowUnsigned = true
        XCTAssertNoThrow(try unsigned.validate())
    }

    func testRenderRoundTrip() throws {
        for config in [try parseConfig(Self.full), RampartConfig.dev(runDirectory: "/run/r")] {
            let text = config.render()
            let parsed = try ConfigLoader.parse(text, baseDirectory: "/elsewhere", source: "rendered.toml")
            XCTAssertEqual(parsed, config, text)
            XCTAssertEqual(parsed.render(), text)
        }

        var awkward = RampartConfig.defaults(baseDirectory: "/srv")
        awkward.pluginTrust = RampartConfig.PluginTrust(
            trustedKeys: ["/k/\"quoted\".pub", "/k/tab\there.pub"], allowUnsigned: true, cacheDir: "/c/ünï ☃")
        awkward.chain.holdBackBytes = 0
        awkward.plugins = [
            RampartConfig.Plugin(name: "a", path: "/p/a", config: "line1\nline2 \"q\" \\ ☃\u{7F}"),
            RampartConfig.Plugin(
                name: "b", path: "/p/b", failureMode: .open, timeoutMs: 60000, isolation: .process, enabled: false),
        ]
        let text = awkward.render()
        let parsed = try ConfigLoader.parse(text, baseDirectory: "/elsewhere", source: "rendered.toml")
        XCTAssertEqual(parsed, awkward, text)
        XCTAssertEqual(parsed.render(), text)
    }

    func testRenderOfPlugins() throws {
        let none = RampartConfig.defaults(baseDirectory: "/etc/rampart").render()
        XCTAssertTrue(none.contains("\n[plugin_trust]\n"))
        XCTAssertTrue(none.contains("\ntrusted_keys = []\n"))
        XCTAssertTrue(none.contains("\nallow_unsigned = false\n"))
        XCTAssertTrue(none.contains("\ncache_dir = \"/etc/rampart/run/plugin-cache\"\n"))
        XCTAssertTrue(none.contains("\n[chain]\n"))
        XCTAssertTrue(none.contains("\nhold_back_bytes = 256\n"))
        // No entry: a commented-out example, never a live [[plugins]] header.
        XCTAssertTrue(none.contains("\n# [[plugins]]\n# name = \"keyword-guard\"\n# path = \"plugins/keyword-guard\"\n"))
        XCTAssertFalse(none.contains("\n[[plugins]]"))

        let text = try parseConfig(Self.full).render()
        XCTAssertTrue(text.contains("\ntrusted_keys = [\"/etc/rampart/keys/plugins.pub\", \"/etc/keys/second.pub\"]\n"))
        let entries = text.components(separatedBy: "\n[[plugins]]\n")
        XCTAssertEqual(entries.count, 3)
        XCTAssertTrue(entries[1].hasPrefix("# "), "the first entry explains its keys")
        XCTAssertTrue(entries[2].hasPrefix("name = \"pii_redactor-2\"\n"), "later entries are bare")
        XCTAssertTrue(entries[1].contains("\nfailure_mode = \"open\"\n"))
        XCTAssertTrue(entries[1].contains("\nisolation = \"process\"\n"))
        XCTAssertTrue(entries[1].contains("\nenabled = false\n"))
    }

    func testCommentedExampleInTheExampleConfigParsesWhenUncommented() throws {
        let path = repositoryRoot + "/examples/configs/rampart.toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let start = text.range(of: "# [[plugins]]\n") else { return XCTFail("no [[plugins]] example") }
        let uncommented = text[start.lowerBound...].split(separator: "\n").map { line in
            line.hasPrefix("# ") ? String(line.dropFirst(2)) : String(line)
        }
        let withKey = text[..<start.lowerBound].replacingOccurrences(
            of: "\ntrusted_keys = []\n", with: "\ntrusted_keys = [\"keys/plugins.pub\"]\n")
        let config = try parseConfig(withKey + uncommented.joined(separator: "\n"), base: "/x")
        XCTAssertEqual(config.plugins.map(\.name), ["keyword-guard"])
        XCTAssertEqual(config.plugins.first?.path, "/x/plugins/keyword-guard")
        XCTAssertEqual(config.plugins.first?.config, "forbidden,secret")
        XCTAssertEqual(config.pluginTrust.trustedKeys, ["/x/keys/plugins.pub"])
    }

    func testArrayElementLinesAreIndexed() {
        let index = SourceIndex("a = [\n  1,\n  [2,\n   3],\n]\n[[t]]\nx = 1\n[[t]]\nx = 2\n")
        XCTAssertEqual(index.exactLine(for: "a[0]"), 2)
        XCTAssertEqual(index.exactLine(for: "a[1]"), 3)
        XCTAssertEqual(index.exactLine(for: "a[1][1]"), 4)
        XCTAssertEqual(index.exactLine(for: "t[1].x"), 9)
        XCTAssertEqual(index.line(for: "t[1].y"), 8)
    }
}
