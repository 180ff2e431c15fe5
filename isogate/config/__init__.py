"""Settings: one validated model from defaults, ``ISOGATE_*`` env vars and a TOML file."""

from isogate.config.egress import EgressSettings
from isogate.config.runtime import RuntimeSettings
from isogate.config.scheduler import SchedulerSettings
from isogate.config.settings import Settings, SettingsError, load_settings

__all__ = [
    "EgressSettings",
    "RuntimeSettings",
    "SchedulerSettings",
    "Settings",
    "SettingsError",
    "load_settings",
]
