// The plugin ABI is a header-only C target; see include/rampart_plugin.h.
