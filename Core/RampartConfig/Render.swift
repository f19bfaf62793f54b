extension RampartConfig {
    /// The configuration as a canonical, commented TOML document (for `rampart config print`).
    ///
    /// Every key is written with its current value (an unset `socket_group` as a comment), in
    /// schema order, each preceded by a comment saying what it does and what it accepts.
    /// ``ConfigLoader/parse(_:baseDirectory:source:)`` reads it back to an equal value (paths of
    /// a loaded config are already resolved; absolute ones parse back unchanged from any base
    /// directory).
    public func render() -> String {
        var out = """
            # Rampart configuration (schema v1).
            # Every key is optional and unknown keys are errors; see docs/CONFIG.md.

            """
        for binding in Self.schema {
            out += "\n" + binding.render(self)
        }
        return out
    }
}
