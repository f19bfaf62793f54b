/// The trust anchor of the bundled injection model: the P-256 public key that signed
/// `Model/injection-model` (the same PEM is committed as Plugins/Sanitizer/injection-model.pub;
/// a test checks they are equal). Compiled in, so replacing the resource directory and a key
/// file next to it is not enough to load a different model.
public enum InjectionModelKey {
    /// SubjectPublicKeyInfo PEM.
    public static let publicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEdoPMRkKLsqzSzM/pmKqwNMRLb3SB
        BX51FTHAACYoem7WB9rjpr0iJQ4vwBcnbXub0MhbUDnwcA3JosCFUR4+VA==
        -----END PUBLIC KEY-----

        """
}
