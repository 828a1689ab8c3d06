"""The business-development dashboard at `/dashboard`, signed in through the bot.

`mount` adds its routes to the server's aiohttp app; `issue_link` makes the one-time
sign-in link that `/crossbot dashboard` and `crossbot dashboard link` hand out.
"""

from bot.dashboard._web import (
    DASHBOARD_KEY,
    Dashboard,
    RedactingAccessLogger,
    issue_link,
    mount,
)

__all__ = ["DASHBOARD_KEY", "Dashboard", "RedactingAccessLogger", "issue_link", "mount"]
