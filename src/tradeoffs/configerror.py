"""The one error a mistake in the workflow config raises, in a module of its own: the config
check and the modules it calls (interpreters, cluster) raise it without importing each other."""


class ConfigError(ValueError):
    """A mistake in the workflow config, worded for the user who made it."""
