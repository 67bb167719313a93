"""User-facing errors: one line that names the file, column or parameter at fault."""


class GogookuError(Exception):
    """An error caused by input or configuration, reported without a traceback."""


class DataError(GogookuError):
    """Input data is missing, malformed or inconsistent."""


class ConfigError(GogookuError):
    """A configuration value is invalid."""
