"""A local fake of the Slack Web API, like bolt-python's mock_web_api_server.

It speaks the real wire format (form or JSON bodies, `{"ok": ...}` answers, 429 with
`Retry-After`) on a real port, records every call (method + params), serves the upload
URLs of `files_upload_v2` and the `response_url`s of slash commands and buttons, and can be
told to fail the next calls of a method, or to hold one unanswered (as a process that dies
while Slack is taking its message would leave it), or to take one and never answer (as a
process killed just after Slack took its message would leave it). Posted messages are kept
with their metadata and answered by conversations.history / conversations.replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = "UBOT"
TEAM = "T0001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    ok: bool = True
    token: str = ""  # the bearer token the call was made with


@dataclass
class FakeSlack:
    """The fake Web API. `users` maps Slack user ids to emails (None: no email visible)."""

    users: dict[str, str | None] = field(default_factory=dict)
    missing_channels: set[str] = field(default_factory=set)  # answer channel_not_found
    calls: list[Call] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # response_url posts
    uploads: list[bytes] = field(default_factory=list)
    # OAuth: install code → (team id, bot token) that oauth.v2.access hands out for it.
    installs: dict[str, tuple[str, str]] = field(default_factory=dict)
    refusals: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    url: str = ""
    _failures: dict[str, list[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _holds: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _swallows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    held: asyncio.Event = field(default_factory=asyncio.Event)  # a held call has arrived
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)  # held calls let go
    _runner: web.AppRunner | None = None
    socket: web.WebSocketResponse | None = None  # the Socket Mode connection, once open
    socket_open: asyncio.Event = field(default_factory=asyncio.Event)
    socket_acks: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- control -------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, times: int = 1, retry_after: int = 0):
        """Answer the next `times` calls of `method` with `status` (429 carries Retry-After)."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self._failures[method] += [(status, headers)] * times

    def refuse_next(self, method: str, error: str) -> None:
        """Answer the next call of `method` with HTTP 200 and `{"ok": false, "error": error}`."""
        self.refusals[method].append(error)

    def hold(self, method: str, nth: int = 1) -> None:
        """Never answer the `nth` call of `method` from now on (it is not accepted)."""
        self._holds[method].append(len(self.requested(method)) + nth)

    def take_and_hold(self, method: str, nth: int = 1) -> None:
        """Accept the `nth` call of `method` from now on (it is done, and in the history),
        but never answer it."""
        self._swallows[method].append(len(self.requested(method)) + nth)

    def tokens(self, method: str) -> list[str]:
        """The token of every successful call of `method`."""
        return [c.token for c in self.calls if c.method == method and c.status == 200 and c.ok]

    def of(self, method: str) -> list[dict[str, Any]]:
        """The params of every successful call of `method`."""
        return [c.params for c in self.calls if c.method == method and c.status == 200 and c.ok]

    def requested(self, method: str) -> list[dict[str, Any]]:
        """The params of every call of `method`, whatever the answer."""
        return [c.params for c in self.calls if c.method == method]

    def attempts(self, method: str) -> list[int]:
        return [c.status for c in self.calls if c.method == method]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/respond/{name}"

    # --- server --------------------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{name}", self._upload)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._stopping.set()  # else the server's cleanup waits a minute for a held call
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            params = dict(body) if isinstance(body, Mapping) else {}
        else:
            params = dict(await request.post())
        params.update(request.query)
        for key in ("blocks", "view", "files", "attachments", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = str(params.get("token") or token)
        if len(self.requested(method)) + 1 in self._holds.get(method, []):
            self.calls.append(Call(method, params, status=0, ok=False, token=token))
            self.held.set()
            await self._stopping.wait()  # until the caller gives up, or the server stops
            return web.json_response({"ok": False, "error": "fake_stopped"}, status=503)
        if len(self.requested(method)) + 1 in self._swallows.get(method, []):
            answer = self._answer(method, params, token)
            self.calls.append(Call(method, params, ok=bool(answer.get("ok")), token=token))
            self.held.set()
            await self._stopping.wait()
            return web.json_response({"ok": False, "error": "fake_stopped"}, status=503)
        if self._failures.get(method):
            status, headers = self._failures[method].pop(0)
            self.calls.append(Call(method, params, status, token=token))
            return web.json_response({"ok": False, "error": "fake"}, status=status, headers=headers)
        if self.refusals.get(method):
            error = self.refusals[method].pop(0)
            self.calls.append(Call(method, params, ok=False, token=token))
            return web.json_response({"ok": False, "error": error})
        answer = self._answer(method, params, token)
        self.calls.append(Call(method, params, ok=bool(answer.get("ok")), token=token))
        return web.json_response(answer)

    def _answer(self, method: str, params: dict[str, Any], token: str = "") -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if params.get("channel") in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if method == "apps.connections.open":
            return ok | {"url": self.url.replace("http", "ws", 1) + "/socket"}
        if method == "auth.test":
            team = next((t for t, tok in self.installs.values() if tok == token), TEAM)
            return ok | {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": team, "user": "crossbot"}
        if method == "oauth.v2.access":
            if str(params.get("code")) not in self.installs:
                return {"ok": False, "error": "invalid_code"}
            team, bot_token = self.installs[str(params["code"])]
            return ok | {
                "app_id": "A1",
                "authed_user": {"id": "UINSTALLER"},
                "scope": "chat:write,commands",
                "token_type": "bot",
                "access_token": bot_token,
                "bot_user_id": BOT_USER,
                "team": {"id": team, "name": f"Workspace {team}"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = str(params.get("user"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            email = self.users[user]
            profile = {"real_name": f"Person {user}"} | ({"email": email} if email else {})
            return ok | {"user": {"id": user, "name": user.lower(), "profile": profile}}
        if method == "users.lookupByEmail":
            email = str(params.get("email"))
            for user, known in self.users.items():
                if known == email:
                    return ok | {"user": {"id": user, "profile": {"email": email}}}
            return {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            return ok | {"channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self._keep(params, ts)
            return ok | {"channel": params.get("channel"), "ts": ts, "message_ts": ts}
        if method in ("conversations.history", "conversations.replies"):
            return ok | self._history(method, params)
        if method in ("views.open", "views.publish", "views.update"):
            return ok | {"view": {"id": "V1", **(params.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            return ok | {"upload_url": f"{self.url}/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return ok | {
                "files": [{"id": "F1", "title": params.get("files", [{}])[0].get("title")}]
            }
        return ok

    def _keep(self, params: dict[str, Any], ts: str) -> None:
        message: dict[str, Any] = {"type": "message", "user": BOT_USER, "bot_id": "BBOT", "ts": ts}
        message["text"] = params.get("text", "")
        for key in ("blocks", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        self.messages[str(params.get("channel"))].append(message)

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One page, newest first, as Slack answers: top-level messages for history, a
        thread's parent and replies for replies; metadata only with include_all_metadata."""
        kept = self.messages.get(str(params.get("channel")), [])
        oldest = float(params.get("oldest") or 0)
        if method == "conversations.history":
            found = [m for m in kept if m.get("thread_ts", m["ts"]) == m["ts"]]
        else:
            thread = str(params.get("ts"))
            found = [m for m in kept if thread in (m["ts"], m.get("thread_ts"))]
        found = [m for m in reversed(found) if float(m["ts"]) > oldest]
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = found[start : start + limit]
        if str(params.get("include_all_metadata")).lower() not in ("1", "true"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        cursor = str(start + limit) if more else ""
        return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then relay envelopes out and acks back."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.socket = socket
        self.socket_open.set()
        async for message in socket:
            if message.type.name == "TEXT":
                await self.socket_acks.put(json.loads(message.data))
        return socket

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        assert self.socket is not None
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        await self.socket.send_json(envelope)

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text="OK")

    async def _respond(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self._failures.get("response_url"):
            status, headers = self._failures["response_url"].pop(0)
            return web.Response(status=status, headers=headers, text="fake")
        self.responses.append((name, await request.json()))
        return web.Response(text="ok")
