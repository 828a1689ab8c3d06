"""The authorization matrix: who may do what to a referral, a story, a campaign.

One scenario (a running campaign, referrals about Northwind, two stories waiting) and one
table of expectations, driven through any transport: the conversation core, signed Slack
requests or Teams activities. Each transport supplies `act(email, step) -> str`, the text
that person was shown; the checks read the database (did it change?) and that text (did
the person see the client's name?).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select

from bot.context import Context
from bot.store.models import Campaign, PointEvent, Referral, Story
from tests.campaign_support import MONDAY, make_campaign, refer
from tests.factories import client, fetch, person

CLIENT = "Northwind Foods Ltd"  # relationship owner: James Thornton
SECRET_NOTE = "board is nervous about the pension scheme"
CAST = {
    "referrer": "priya.shah@hartwellfinch.example",
    "receiver": "morag.campbell@hartwellfinch.example",
    "owner": "james.thornton@hartwellfinch.example",
    "admin": "alex.morgan@hartwellfinch.example",
    "ambassador": "catherine.ashby@hartwellfinch.example",
    "member": "kieran.walsh@hartwellfinch.example",  # unrelated to all of it
}
OUTSIDERS = {"ambassador", "member"}  # may not see the referral's client or note
FORGED = 987_654  # an id no row has
TOO_BIG = 2**63


@dataclass
class Scene:
    """The ids of the rows each step acts on (one row per step, so steps don't interfere)."""

    shown: int
    parked: int
    accepted: int
    declined: int
    consent: int
    story: int
    naming: int
    award: int
    campaign: int


@dataclass(frozen=True)
class Step:
    """One action as a person would take it: a button (action + payload) or typed text."""

    name: str
    action: str | None = None
    payload: Callable[[Scene], dict] | None = None
    text: Callable[[Scene], str] | None = None


def build(ctx: Context) -> Scene:
    """The scenario, on Monday morning of a running campaign."""
    campaign = make_campaign(ctx)
    with ctx.store.write() as session:
        referrer, receiver = person(session, CAST["referrer"]), person(session, CAST["receiver"])
        rows = []
        for _ in range(5):
            row, awards = refer(session, referrer, receiver, CLIENT, MONDAY)
            row.note = SECRET_NOTE
            rows.append(row)
        shown, parked, accepted, declined, consent = rows
        parked.status, parked.consent = "accepted", "given"
        consent.consent = "pending"
        session.add_all(rows)
        first_award = session.exec(select(PointEvent).order_by(PointEvent.id)).first()  # type: ignore[arg-type]
        assert first_award is not None and first_award.id is not None
        northwind = client(session, CLIENT)
        # Two of the referrer's stories about Northwind, told apart by what each adds: one
        # from a referral, one asking to name the client.
        about = {
            "author_id": referrer.id,
            "client_id": northwind.id,
            "body": "Both teams.",
            "teams": ["Tax"],
        }
        story = Story(title="A win", referral_id=shown.id, **about)
        naming = Story(title="Named win", name_client=True, client_approval="pending", **about)
        session.add_all([story, naming])
        session.flush()
        ids = [r.id for r in rows] + [story.id, naming.id, first_award.id, campaign.id]
    assert all(i is not None for i in ids)
    return Scene(*ids)  # type: ignore[arg-type]


def _campaigns(ctx: Context) -> list[Campaign]:
    with ctx.store.read() as session:
        return list(session.exec(select(Campaign)))


def _reversed(ctx: Context, award: int) -> bool:
    with ctx.store.read() as session:
        return bool(session.exec(select(PointEvent).where(PointEvent.reverses_id == award)).all())


NEXT_WEEK = {"name": "Spring week", "preset": "standard", "teams": "", "offices": ""}
NEXT_WEEK |= {"start": str((MONDAY + timedelta(days=14)).date())}
NEXT_WEEK |= {"end": str((MONDAY + timedelta(days=18)).date())}

# (step, who may, how to tell it happened: from the database, or from what they were shown)
Check = Callable[[Context, Scene, str], bool]
Row = tuple[Step, set[str], Check]


def _receiver_moves(name: str, action: str, row: Callable[[Scene], int], status: str) -> Row:
    """A button only the receiver (or an admin) may press, moving referral `row` to `status`."""
    return (
        Step(name, action, lambda s: {"id": row(s)}),
        {"receiver", "admin"},
        lambda ctx, s, seen: fetch(ctx, Referral, row(s)).status == status,
    )


MATRIX: list[Row] = [
    (
        Step("view details", "referral.show", lambda s: {"id": s.shown}),
        {"referrer", "receiver", "owner", "admin"},
        lambda ctx, s, seen: "Northwind" in seen,
    ),
    (
        Step("see reports", text=lambda s: f"/campaign awards {CAST['referrer']}"),
        {"admin"},
        lambda ctx, s, seen: f"#{s.award}" in seen,
    ),
    (
        Step("view a forged id", "referral.show", lambda s: {"id": FORGED}),
        set(),
        lambda ctx, s, seen: "Northwind" in seen,
    ),
    (
        Step("accept a forged id", "referral.accept", lambda s: {"id": TOO_BIG}),
        set(),
        lambda ctx, s, seen: "can't find that" not in seen,
    ),
    _receiver_moves("change status", "referral.park", lambda s: s.parked, "parked"),
    _receiver_moves("accept", "referral.accept", lambda s: s.accepted, "accepted"),
    _receiver_moves("decline", "referral.decline", lambda s: s.declined, "declined"),
    (
        Step("give go-ahead", "referral.consent_go", lambda s: {"id": s.consent}),
        {"owner", "admin"},
        lambda ctx, s, seen: fetch(ctx, Referral, s.consent).consent == "given",
    ),
    (
        Step("approve a story", "story.approve", lambda s: {"story": s.story}),
        {"admin", "ambassador"},
        lambda ctx, s, seen: fetch(ctx, Story, s.story).reviewed_by_id is not None,
    ),
    (
        Step("approve naming the client", "story.owner_approve", lambda s: {"story": s.naming}),
        {"owner"},
        lambda ctx, s, seen: fetch(ctx, Story, s.naming).client_approval == "approved",
    ),
    (
        Step("start a campaign", "campaign.create", lambda s: dict(NEXT_WEEK)),
        {"admin"},
        lambda ctx, s, seen: len(_campaigns(ctx)) > 1,
    ),
    (
        Step("reverse points", text=lambda s: f"/campaign reverse #{s.award} a mistake"),
        {"admin"},
        lambda ctx, s, seen: _reversed(ctx, s.award),
    ),
    (
        Step("end a campaign", "campaign.end", lambda s: {}),
        {"admin"},
        lambda ctx, s, seen: any(c.status == "ended" for c in _campaigns(ctx)),
    ),
]


def run_matrix(ctx: Context, role: str, act: Callable[[str, Step, Scene], str]) -> None:
    """Every step of the table as `role`, through `act`; all mismatches reported at once."""
    scene = build(ctx)
    wrong: list[str] = []
    for step, _allowed, _happened in MATRIX:
        wrong += _mismatches(ctx, scene, role, step, act(CAST[role], step, scene))
    assert wrong == [], f"{role}: {wrong}"


async def run_matrix_async(
    ctx: Context, role: str, act: Callable[[str, Step, Scene], Awaitable[str]]
) -> None:
    """`run_matrix` for a transport that is driven asynchronously (Slack, Teams)."""
    scene = build(ctx)
    wrong: list[str] = []
    for step, _allowed, _happened in MATRIX:
        wrong += _mismatches(ctx, scene, role, step, await act(CAST[role], step, scene))
    assert wrong == [], f"{role}: {wrong}"


def _mismatches(ctx: Context, scene: Scene, role: str, step: Step, seen: str) -> list[str]:
    [(allowed, happened)] = [(a, h) for s, a, h in MATRIX if s == step]
    wrong = []
    if happened(ctx, scene, seen) != (role in allowed):
        wrong.append(f"{step.name}: {'refused' if role in allowed else 'allowed'}")
    about_referral = (step.action or "").startswith("referral.")
    if about_referral and role in OUTSIDERS and ("Northwind" in seen or SECRET_NOTE in seen):
        wrong.append(f"{step.name}: the client or the note was shown")
    return wrong
