"""Configuration (filled by the configuration work)."""
