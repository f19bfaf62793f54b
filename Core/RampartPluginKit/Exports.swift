// A plugin sees the ABI's message types (Rampart_V1_PluginRequest, Rampart_V1_Verdict, ...)
// through the kit: `import RampartPluginKit` is the only import a plugin needs.
@_exported import RampartProto
