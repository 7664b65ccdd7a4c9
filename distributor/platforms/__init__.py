"""Platform adapters: one module per platform, loaded lazily through `registry`."""
