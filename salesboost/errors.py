"""Errors raised for invalid user input."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid.

    ``key`` is the dotted path of the offending value (``pipeline.approval.sla_hours``)
    and ``problem`` says what is wrong and what is allowed.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)

    def under(self, prefix: str) -> ConfigError:
        """Return the same error with ``prefix`` prepended to its key."""
        if not prefix:
            return self
        return ConfigError(f"{prefix}.{self.key}" if self.key else prefix, self.problem)
