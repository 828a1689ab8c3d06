"""What the Slack benchmarks share: servers on loopback ports.

`load.py` and `slack_throughput.py` play Slack (a Web API served in their own process; the
second uses the first's) against servers under test in child processes, which report the
port they got; requests are signed by `tests/slack/payloads.sign`. Not a
benchmark itself; the scripts import it (`benchmarks/` is put on the path, not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """`app` on a free loopback port: its runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


def serve_until_stopped(build: Callable[[], web.Application], ports: Any, stop: Any) -> None:
    """In a child process: serve `build()`, put its port on `ports`, return once `stop` is set.

    The app is built inside the child's event loop, as aiohttp apps and their stores expect.
    """

    async def main() -> None:
        runner, port = await serve(build())
        ports.put(port)
        await asyncio.to_thread(stop.wait)
        await runner.cleanup()

    asyncio.run(main())


@contextlib.asynccontextmanager
async def child_server(
    target: Callable[..., None], *args: Any, timeout: float = 60.0
) -> AsyncIterator[tuple[int, int]]:
    """Run `target(*args, ports, stop)` in a spawned process; yield the port it reports
    and the process id.

    `target` is a module-level function (spawn pickles it) that ends in `serve_until_stopped`.
    """
    context = mp.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    process = context.Process(target=target, args=(*args, ports, stop))
    process.start()
    try:
        port = await asyncio.to_thread(ports.get, True, timeout)
        assert process.pid is not None
        yield port, process.pid
    finally:
        stop.set()
        await asyncio.to_thread(process.join, 30)
        if process.is_alive():
            process.terminate()
            process.join(10)


def free_port() -> int:
    """A loopback port free now, for a server that must be told its port before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
