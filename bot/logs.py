"""Logging that never leaks: no message text, tokens or referral details in the logs."""

from __future__ import annotations

import logging
import traceback
from typing import Any


def log_failure(logger: logging.Logger, what: str, exc: BaseException, **context: Any) -> None:
    """Log a failure by type and place only.

    Exception messages can carry SQL parameters or user text (client names, values), so
    the ERROR line names the exception type and the innermost frame; the full traceback
    goes to DEBUG, for an operator who switches it on deliberately.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    details = " ".join(f"{key}={value}" for key, value in context.items())
    logger.error("%s: %s at %s %s", what, type(exc).__name__, where, details)
    logger.debug("%s: traceback", what, exc_info=exc)
