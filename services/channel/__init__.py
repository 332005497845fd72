"""The channel service: one adapter per payment channel, and the built-in sandbox channel."""
