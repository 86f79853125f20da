"""The plugin system: hookspecs, the plugin manager, the adapter base and the draft."""
