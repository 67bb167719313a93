"""A registry action refused on its merits (gate 4, nothing to roll back): exit code 1, not 2."""

from gogooku3.errors import GogookuError


class RegistryError(GogookuError):
    """Gate 4 refused a promotion, or the registry's state does not allow the action."""
