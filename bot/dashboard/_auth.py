"""Sign-in links, sessions, signed cookies and CSRF tokens.

A link and a session are each a random token given to the person once; the database keeps
only its SHA-256, so a copy of the database signs nobody in. The cookie carries the session
token with an HMAC over it, so a forged or altered cookie is refused before any query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.settings import Settings
from bot.store.models import DashboardLink, DashboardSession, Person

LINK_LIFETIME = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(hours=8)
# A session's last-seen time is written at most this often, not on every page.
TOUCH_EVERY = timedelta(minutes=1)
_PROCESS_KEY = secrets.token_bytes(32)
_KEY_PURPOSE = b"crossbot-dashboard-cookie-v1"


class SignInError(Exception):
    """A link that cannot sign anyone in; `code` is unknown | used | expired | inactive."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class SignedIn:
    """A live session and its person."""

    session: DashboardSession
    person: Person
    token: str = ""  # the session token from the cookie (to renew the cookie)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_link(session: Session, person: Person, now: datetime) -> str:
    """A one-time sign-in token for `person`, valid for `LINK_LIFETIME`."""
    assert person.id is not None
    token = new_token()
    session.add(
        DashboardLink(
            token_hash=token_hash(token),
            person_id=person.id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return token


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/dashboard/signin/{token}"


def check_link(session: Session, token: str, now: datetime) -> DashboardLink:
    """The link if it can still sign someone in; raises `SignInError` otherwise."""
    link = session.exec(
        select(DashboardLink).where(DashboardLink.token_hash == token_hash(token))
    ).first()
    if link is None:
        raise SignInError("unknown")
    if link.used_at is not None:
        raise SignInError("used")
    if link.expires_at <= now:
        raise SignInError("expired")
    person = session.get(Person, link.person_id)
    if person is None or not person.active:
        raise SignInError("inactive")
    return link


def redeem_link(session: Session, token: str, now: datetime) -> tuple[str, DashboardSession]:
    """Use a link (once) and open a session; returns the session token and its row."""
    link = check_link(session, token, now)
    # Claimed with a conditional update, so two browsers racing on one link can't both win.
    claimed = session.execute(
        update(DashboardLink)
        .where(col(DashboardLink.id) == link.id, col(DashboardLink.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise SignInError("used")
    raw = new_token()
    row = DashboardSession(
        token_hash=token_hash(raw),
        person_id=link.person_id,
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return raw, row


def live_session(session: Session, raw: str, now: datetime) -> SignedIn | None:
    """The session with this token, unless it ended, idled out, or its person left."""
    row = session.exec(
        select(DashboardSession).where(
            DashboardSession.token_hash == token_hash(raw),
            col(DashboardSession.ended_at).is_(None),
        )
    ).first()
    if row is None or now - row.last_seen_at >= IDLE_TIMEOUT:
        return None
    person = session.get(Person, row.person_id)
    if person is None or not person.active:
        return None
    return SignedIn(row, person, raw)


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Record activity (the idle timeout counts from here)."""
    session.execute(
        update(DashboardSession)
        .where(col(DashboardSession.id) == session_id)
        .values(last_seen_at=now)
    )


def end_session(session: Session, session_id: int, now: datetime) -> None:
    """Sign a browser out on the server: its cookie is worthless from now on."""
    session.execute(
        update(DashboardSession)
        .where(col(DashboardSession.id) == session_id, col(DashboardSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def open_sessions(session: Session, now: datetime) -> list[tuple[DashboardSession, Person]]:
    """Every session still signed in, most recently active first (for admins)."""
    rows = session.exec(
        select(DashboardSession, Person)
        .join(Person, col(Person.id) == col(DashboardSession.person_id))
        .where(
            col(DashboardSession.ended_at).is_(None),
            col(DashboardSession.last_seen_at) > now - IDLE_TIMEOUT,
        )
        .order_by(col(DashboardSession.last_seen_at).desc())
    ).all()
    return [(row, person) for row, person in rows]


# -- cookies and forms -------------------------------------------------------------------


def signing_key(settings: Settings) -> bytes:
    """The cookie key: `CROSSBOT_SESSION_SECRET`, else derived from the Slack or Teams secret
    (shared by every replica of one bot), else a random key for this process only."""
    for secret in (
        settings.session_secret,
        settings.slack_signing_secret,
        settings.microsoft_app_password,
    ):
        if secret is not None and secret.get_secret_value():
            return hmac.new(secret.get_secret_value().encode(), _KEY_PURPOSE, "sha256").digest()
    return _PROCESS_KEY


def sign(key: bytes, value: str) -> str:
    mac = hmac.new(key, value.encode(), "sha256").digest()
    return f"{value}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsign(key: bytes, signed: str | None) -> str | None:
    """The value inside a signed string, or None if it was forged or altered."""
    if not signed or "." not in signed:
        return None
    value = signed.rsplit(".", 1)[0]
    return value if hmac.compare_digest(sign(key, value), signed) else None


def same_token(expected: str, given: object) -> bool:
    """A constant-time check of a submitted CSRF token."""
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)
