"""Crossbot: a Slack and Microsoft Teams bot for internal cross-selling."""

__version__ = "0.1.0"

__all__ = ["__version__"]
