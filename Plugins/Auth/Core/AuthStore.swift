import Foundation
import GRDB
import RampartCrypto

/// The persistent auth store: principals, API key hashes, revocation epochs, TOTP seeds and
/// their last accepted step, and signing-key lifetimes, in one SQLite file (GRDB `DatabasePool`,
/// WAL), migrated on open and created on first start. Several processes (the sidecar and the
/// offline CLI) may use it at once: every write is one short transaction with a busy timeout,
/// and every write that can change an authentication outcome bumps a generation number that
/// the sidecar polls.
public final class AuthStore: Sendable {
    let pool: DatabasePool
    let secret: [UInt8]
    let box: SecretBox
    /// The database file.
    public let path: String

    /// Opens (or creates) the store at `path` with the secret file `secretFile` (created 0600
    /// when absent). The directory must exist.
    public init(path: String, secretFile: String) throws(AuthError) {
        self.path = path
        secret = try StoreSecret.loadOrCreate(at: secretFile)
        box = SecretBox(storeSecret: secret)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        configuration.label = "rampart-auth"
        do {
            let created = !FileManager.default.fileExists(atPath: path)
            pool = try DatabasePool(path: path, configuration: configuration)
            if created { chmod(path, 0o600) }
            try Self.migrator.migrate(pool)
        } catch {
            throw AuthError(.storage, "cannot open the auth store \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE principal (
                  id TEXT PRIMARY KEY NOT NULL, user TEXT NOT NULL, org TEXT NOT NULL,
                  scopes TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE api_key (
                  id TEXT PRIMARY KEY NOT NULL,
                  principal_id TEXT NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                  hash BLOB NOT NULL, scopes TEXT, label TEXT NOT NULL, created_at REAL NOT NULL,
                  expires_at REAL, revoked_at REAL, bound_uid INTEGER, bound_gid INTEGER, rotated_to TEXT);
                CREATE INDEX api_key_principal ON api_key(principal_id);
                CREATE TABLE revocation (subject TEXT PRIMARY KEY NOT NULL, epoch REAL NOT NULL);
                CREATE TABLE totp (
                  principal_id TEXT PRIMARY KEY NOT NULL REFERENCES principal(id) ON DELETE CASCADE,
                  sealed_secret BLOB NOT NULL, last_step INTEGER NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE signing_key (kid TEXT PRIMARY KEY NOT NULL, created_at REAL NOT NULL, retire_at REAL);
                CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                INSERT INTO generation (id, value) VALUES (1, 0);
                """)
        }
        return migrator
    }

    private func bump(_ db: Database) throws {
        try db.execute(sql: "UPDATE generation SET value = value + 1 WHERE id = 1")
    }

    private func wrap<T>(_ what: String, _ body: () throws -> T) throws(AuthError) -> T {
        do {
            return try body()
        } catch let error as AuthError {
            throw error
        } catch {
            throw AuthError(.storage, "\(what): \(error)")
        }
    }

    /// The store's generation: changes whenever a key, revocation or signing key changes.
    public func generation() throws(AuthError) -> Int64 {
        try wrap("reading the store generation") {
            try pool.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM generation WHERE id = 1") ?? 0 }
        }
    }

    // MARK: principals

    /// Creates a principal, or updates user/org/scopes of an existing one.
    public func upsertPrincipal(_ principal: Principal, now: Double) throws(AuthError) {
        try Self.validateID(principal.id, what: "principal id")
        for scope in principal.scopes { try Self.validateScope(scope) }
        try wrap("saving principal \(principal.id)") {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO principal (id, user, org, scopes, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET user = excluded.user, org = excluded.org, scopes = excluded.scopes
                    """, arguments: [principal.id, principal.user, principal.org, principal.scopes.joined(separator: " "), now])
                try bump(db)
            }
        }
    }

    /// The principal `id`, or nil.
    public func principal(_ id: String) throws(AuthError) -> Principal? {
        try wrap("reading principal \(id)") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM principal WHERE id = ?", arguments: [id]).map(Self.principal(from:))
            }
        }
    }

    /// Every principal, by id.
    public func principals() throws(AuthError) -> [Principal] {
        try wrap("listing principals") {
            try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM principal ORDER BY id").map(Self.principal(from:)) }
        }
    }

    static func principal(from row: Row) -> Principal {
        Principal(id: row["id"], user: row["user"], org: row["org"], scopes: scopes(row["scopes"]) ?? [],
                  createdAt: row["created_at"])
    }

    static func scopes(_ text: String?) -> [String]? {
        text.map { $0.split(separator: " ").map(String.init) }
    }

    // MARK: API keys

    /// Creates an API key for `principalID`. `scopes` must be a subset of the principal's.
    public func createKey(principalID: String, scopes: [String]?, label: String = "", expiresAt: Double? = nil,
                          boundUID: UInt32? = nil, boundGID: UInt32? = nil, now: Double) throws(AuthError) -> CreatedKey {
        guard let principal = try principal(principalID) else { throw AuthError(.notFound, "no principal \(principalID)") }
        if let scopes {
            for scope in scopes where !principal.scopes.contains(scope) {
                throw AuthError(.invalidArgument, "principal \(principalID) does not have scope \(scope)")
            }
        }
        if let expiresAt, expiresAt <= now { throw AuthError(.invalidArgument, "the expiry is in the past") }
        let (key, id) = APIKeyFormat.generate()
        let info = APIKeyInfo(id: id, principalID: principalID, scopes: scopes, label: label, createdAt: now,
                              expiresAt: expiresAt, revokedAt: nil, boundUID: boundUID, boundGID: boundGID, rotatedTo: nil)
        let hash = keyHash(Array(key.utf8))
        try wrap("saving a key for \(principalID)") {
            try pool.write { db in try insert(info, hash: hash, db) }
        }
        return CreatedKey(key: key, info: info)
    }

    private func insert(_ info: APIKeyInfo, hash: [UInt8], _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO api_key (id, principal_id, hash, scopes, label, created_at, expires_at, revoked_at, bound_uid, bound_gid, rotated_to)
            VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)
            """, arguments: [info.id, info.principalID, Data(hash), info.scopes?.joined(separator: " "), info.label, info.createdAt,
                             info.expiresAt, info.boundUID.map { Int64($0) }, info.boundGID.map { Int64($0) }])
        try bump(db)
    }

    /// HMAC-SHA256(store secret, key).
    func keyHash(_ key: [UInt8]) -> [UInt8] { HMAC.mac(.sha256, key: secret, message: key) }

    /// The stored record of key `id`, or nil.
    func keyRecord(_ id: String) throws(AuthError) -> APIKeyRecord? {
        try wrap("reading key \(id)") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).map { row in
                    APIKeyRecord(info: Self.keyInfo(from: row), hash: Array((row["hash"] as Data?) ?? Data()))
                }
            }
        }
    }

    /// Key `id`'s info, or nil.
    public func key(_ id: String) throws(AuthError) -> APIKeyInfo? { try keyRecord(id)?.info }

    /// The keys of `principalID` (all keys when nil), oldest first.
    public func keys(principalID: String? = nil) throws(AuthError) -> [APIKeyInfo] {
        try wrap("listing keys") {
            try pool.read { db in
                let rows = if let principalID {
                    try Row.fetchAll(db, sql: "SELECT * FROM api_key WHERE principal_id = ? ORDER BY created_at, id", arguments: [principalID])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at, id")
                }
                return rows.map(Self.keyInfo(from:))
            }
        }
    }

    static func keyInfo(from row: Row) -> APIKeyInfo {
        APIKeyInfo(id: row["id"], principalID: row["principal_id"], scopes: scopes(row["scopes"]), label: row["label"],
                   createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"],
                   boundUID: (row["bound_uid"] as Int64?).flatMap(UInt32.init(exactly:)),
                   boundGID: (row["bound_gid"] as Int64?).flatMap(UInt32.init(exactly:)), rotatedTo: row["rotated_to"])
    }

    /// Revokes key `id` now, and with it every token exchanged for it.
    public func revokeKey(_ id: String, now: Double) throws(AuthError) {
        try wrap("revoking key \(id)") {
            try pool.write { db in
                try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
                guard db.changesCount == 1 else {
                    let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM api_key WHERE id = ?", arguments: [id]) ?? false
                    throw exists ? AuthError(.invalidArgument, "key \(id) is already revoked") : AuthError(.notFound, "no key \(id)")
                }
                try setEpoch("key:\(id)", now, db)
                try bump(db)
            }
        }
    }

    /// Replaces key `id` by a new key with the same principal, scopes and bindings; the old key
    /// keeps working for `grace` seconds (never longer than its own expiry).
    public func rotateKey(_ id: String, grace: Double, now: Double) throws(AuthError) -> CreatedKey {
        guard grace >= 0 else { throw AuthError(.invalidArgument, "the grace period must not be negative") }
        let (key, newID) = APIKeyFormat.generate()
        let hash = keyHash(Array(key.utf8))
        return try wrap("rotating key \(id)") {
            try pool.write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]) else {
                    throw AuthError(.notFound, "no key \(id)")
                }
                let old = Self.keyInfo(from: row)
                guard old.revokedAt == nil else { throw AuthError(.invalidArgument, "key \(id) is revoked") }
                guard old.rotatedTo == nil else { throw AuthError(.invalidArgument, "key \(id) was already rotated (to \(old.rotatedTo ?? ""))") }
                if let expiresAt = old.expiresAt, expiresAt <= now { throw AuthError(.invalidArgument, "key \(id) has expired") }
                let graceEnd = min(old.expiresAt ?? .infinity, now + grace)
                let info = APIKeyInfo(id: newID, principalID: old.principalID, scopes: old.scopes, label: old.label, createdAt: now,
                                      expiresAt: old.expiresAt, revokedAt: nil, boundUID: old.boundUID, boundGID: old.boundGID,
                                      rotatedTo: nil)
                try insert(info, hash: hash, db)
                try db.execute(sql: "UPDATE api_key SET expires_at = ?, rotated_to = ? WHERE id = ?", arguments: [graceEnd, newID, id])
                return CreatedKey(key: key, info: info)
            }
        }
    }

    // MARK: revocation epochs

    private func setEpoch(_ subject: String, _ epoch: Double, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO revocation (subject, epoch) VALUES (?, ?)
            ON CONFLICT(subject) DO UPDATE SET epoch = max(epoch, excluded.epoch)
            """, arguments: [subject, epoch])
    }

    /// Revokes every token of principal `id` issued up to `now`.
    public func revokeTokens(principalID id: String, now: Double) throws(AuthError) {
        guard try principal(id) != nil else { throw AuthError(.notFound, "no principal \(id)") }
        try wrap("revoking the tokens of \(id)") {
            try pool.write { db in
                try setEpoch("principal:\(id)", now, db)
                try bump(db)
            }
        }
    }

    /// Revokes every token exchanged for key `id` up to `now` (the key itself stays valid).
    public func revokeTokens(keyID id: String, now: Double) throws(AuthError) {
        guard try key(id) != nil else { throw AuthError(.notFound, "no key \(id)") }
        try wrap("revoking the tokens of key \(id)") {
            try pool.write { db in
                try setEpoch("key:\(id)", now, db)
                try bump(db)
            }
        }
    }

    /// Every revocation epoch: `principal:<id>` / `key:<id>` → Unix seconds.
    public func revocationEpochs() throws(AuthError) -> [String: Double] {
        try wrap("reading revocations") {
            try pool.read { db in
                var out: [String: Double] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT subject, epoch FROM revocation") { out[row["subject"]] = row["epoch"] }
                return out
            }
        }
    }

    // MARK: TOTP

    /// Enrols (or re-enrols) principal `id` for TOTP with a fresh 160-bit seed.
    public func enrollTOTP(principalID id: String, now: Double) throws(AuthError) -> TOTP {
        guard try principal(id) != nil else { throw AuthError(.notFound, "no principal \(id)") }
        let totp = TOTP(secret: secureRandomBytes(20))
        let sealed = try box.seal(totp.secret, context: "totp:\(id)")
        try wrap("enrolling \(id) for TOTP") {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO totp (principal_id, sealed_secret, last_step, created_at) VALUES (?, ?, -1, ?)
                    ON CONFLICT(principal_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, created_at = excluded.created_at
                    """, arguments: [id, Data(sealed), now])
            }
        }
        return totp
    }

    /// Principal `id`'s TOTP generator, or nil when not enrolled.
    public func totp(principalID id: String) throws(AuthError) -> TOTP? {
        let sealed: Data? = try wrap("reading the TOTP seed of \(id)") {
            try pool.read { db in try Data.fetchOne(db, sql: "SELECT sealed_secret FROM totp WHERE principal_id = ?", arguments: [id]) }
        }
        guard let sealed else { return nil }
        return TOTP(secret: try box.open(Array(sealed), context: "totp:\(id)"))
    }

    /// Records `step` as principal `id`'s last accepted TOTP step, atomically and only if it is
    /// later than the last one: false means the code (or an earlier one) was already used.
    public func acceptTOTPStep(principalID id: String, step: Int64) throws(AuthError) -> Bool {
        try wrap("recording a TOTP step for \(id)") {
            try pool.write { db in
                try db.execute(sql: "UPDATE totp SET last_step = ? WHERE principal_id = ? AND last_step < ?", arguments: [step, id, step])
                return db.changesCount == 1
            }
        }
    }

    // MARK: signing keys

    /// Records a new signing key.
    public func addSigningKey(kid: String, now: Double) throws(AuthError) {
        try wrap("recording signing key \(kid)") {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO signing_key (kid, created_at, retire_at) VALUES (?, ?, NULL)", arguments: [kid, now])
                try bump(db)
            }
        }
    }

    /// Sets the instant at which signing key `kid` stops verifying (it stops signing at once).
    public func retireSigningKey(kid: String, at instant: Double) throws(AuthError) {
        try wrap("retiring signing key \(kid)") {
            try pool.write { db in
                try db.execute(sql: "UPDATE signing_key SET retire_at = ? WHERE kid = ?", arguments: [instant, kid])
                guard db.changesCount == 1 else { throw AuthError(.notFound, "no signing key \(kid)") }
                try bump(db)
            }
        }
    }

    /// Every signing key, oldest first.
    public func signingKeys() throws(AuthError) -> [SigningKeyInfo] {
        try wrap("listing signing keys") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM signing_key ORDER BY created_at, kid").map { row in
                    SigningKeyInfo(kid: row["kid"], createdAt: row["created_at"], retireAt: row["retire_at"])
                }
            }
        }
    }

    // MARK: validation

    private static let idCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@".utf8)
    private static let scopeCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789:-_.".utf8)

    static func validateID(_ id: String, what: String) throws(AuthError) {
        guard !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ idCharacters.contains($0) }) else { throw AuthError(.invalidArgument, "\(what) must be 1-128 characters of [A-Za-z0-9-_.@]") }
    }

    static func validateScope(_ scope: String) throws(AuthError) {
        guard !scope.isEmpty, scope.utf8.count <= 64, scope.utf8.allSatisfy({ scopeCharacters.contains($0) }) else { throw AuthError(.invalidArgument, "scope \"\(scope)\" must be 1-64 characters of [a-z0-9:-_.]") }
    }
}
