"""Configuration (§8)."""

from ghw.config.loader import Config, config_file_path, load_config

__all__ = ["Config", "config_file_path", "load_config"]
