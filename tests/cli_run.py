"""`crossbot ...` run inside the test process, as `python -m bot ...` would run it.

A fresh interpreter costs two to four seconds of CPU (importing the bot) before the command
does anything, and most CLI tests are about what a command prints and changes, not about
the process. `crossbot` therefore calls the console script's own `main` with the process
state a new interpreter would have (argv, piped stdin, environment, working directory,
settings read afresh, WARNING logging to stderr) and puts all of it back afterwards. The
tests about the process itself (what it imports, how fast it starts, how it is served)
still start one: tests/test_imports.py and tests/test_snapshot.py, for example.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from bot import cli, money
from bot.settings import get_settings

# Loggers `main` changes the level of (CROSSBOT_DEBUG=1), and the root it configures.
_LOGGERS = ("", "bot", "crossbot")


def crossbot(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`crossbot *args` in `cwd` with `stdin` piped in and `env` added to the environment
    (the caller's CROSSBOT_DATABASE_URL removed): its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _fresh_process(args, cwd, stdin, env or {}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = _exit_code()
    return subprocess.CompletedProcess(["crossbot", *args], code, out.getvalue(), err.getvalue())


def _exit_code() -> int:
    """Run `main` as the interpreter would: its exit status, an escaping error's traceback."""
    try:
        cli.main()
    except SystemExit as done:
        return _status(done.code)
    except BaseException:  # what the interpreter prints for an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): printed, status 1
    return 1


@contextlib.contextmanager
def _fresh_process(
    args: tuple[str, ...], cwd: Path, stdin: str, env: dict[str, str]
) -> Iterator[None]:
    saved_env, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    saved_cwd, saved_currency = Path.cwd(), money.firm_currency()
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    saved_levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    os.environ.pop("CROSSBOT_DATABASE_URL", None)
    os.environ.update(env)
    sys.argv, sys.stdin = ["crossbot", *args], io.StringIO(stdin)
    os.chdir(cwd)
    get_settings.cache_clear()  # a new process reads its settings once, from here
    root.handlers = []  # so that main's logging.basicConfig writes to this stderr
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = saved_handlers
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        get_settings.cache_clear()
        os.chdir(saved_cwd)
        sys.argv, sys.stdin = saved_argv, saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
        money.use_firm_currency(saved_currency)
