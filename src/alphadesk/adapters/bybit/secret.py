"""The adapter's secret type is the desk-wide one, so settings hand keys over without copying."""

from alphadesk.domain.secrets import Secret

__all__ = ["Secret"]
