"""Configuration (§8)."""

from ghw.config.checks import check_runtime_files
from ghw.config.loader import Config, config_file_path, load_config

__all__ = ["Config", "check_runtime_files", "config_file_path", "load_config"]
