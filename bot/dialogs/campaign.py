"""Cross-selling weeks in chat: campaigns, ideas, leaderboards.

`/crossbot campaign start|extend|end|status|reverse|awards|history`, `/leaderboard
[people|teams|offices|me|optin|optout]`, `/idea <text>` (or "idea: ..."), `/ideas`, and
the buttons they show (`campaign.*`, `leaderboard.*`, `idea.*`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot import campaigns
from bot.campaigns import Boards, CampaignError, local_day, movement_word
from bot.chart_cache import cached_chart
from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler, referral
from bot.inbound import is_row_id
from bot.messages import Button, Form, FormInput, Reply, Turn
from bot.people import admins, by_email
from bot.render import label, render
from bot.store.models import Campaign, Person, PointEvent, ServiceCard

PRESET_LABELS = {
    "standard": "balanced",
    "ideas": "ideas count more",
    "wins": "wins count more",
    "open": "own-team referrals count too",
}
_LEADERBOARD_TALK = re.compile(
    r"^(show\s+(me\s+)?)?(the\s+)?(leaderboard|league table|standings)\b|"
    r"^(how am i doing|what'?s my (rank|score)|my points)\b",
    re.I,
)
_ME_TALK = re.compile(r"\b(i|my|me)\b", re.I)


def _error(exc: CampaignError, template: str = "campaign_error") -> list[Reply]:
    return [Reply(render(template, code=exc.code, **exc.data), kind=template)]


# -- campaigns ---------------------------------------------------------------------------


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/crossbot campaign ...`."""
    return campaign_command(turn, ctx, me, args)


def campaign_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    word, _, rest = args.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in ("", "status", "rules"):
        return _status(ctx, me)
    if word == "history":
        return _history(ctx)
    admin_words = {"start": "start", "extend": "extend", "end": "end", "stop": "end"}
    admin_words |= {"reverse": "reverse", "awards": "review"}
    if word in admin_words and not me.is_admin:
        with ctx.store.read() as session:
            names = [a.name for a in admins(session)]
        text = render("campaign_admin_only", what=admin_words[word], admins=names)
        return [Reply(text, kind="campaign_admin_only")]
    if word == "start":
        return [_start_form(ctx)]
    if word == "extend":
        return _extend(ctx, rest)
    if word in ("end", "stop"):
        return _end(ctx, me)
    if word == "reverse":
        return _reverse(ctx, me, rest)
    if word == "awards":
        return _awards(ctx, rest)
    return [Reply(render("campaign_usage", is_admin=me.is_admin), kind="campaign_usage")]


def _start_form(ctx: Context, values: dict[str, Any] | None = None) -> Reply:
    values = values or {}
    first = local_day(ctx.now(), ctx.settings.zone)
    current = _current(ctx)
    if current is not None:
        # One campaign at a time: suggest the next one once the current one is over.
        first = max(first, campaigns.last_day(current, ctx.settings.zone) + timedelta(days=1))
    presets = [(name, PRESET_LABELS.get(name, name)) for name in campaigns.PRESETS]
    form = Form(
        title=label("start_a_cross_selling_week"),
        submit_action="campaign.create",
        submit_label=label("start"),
        inputs=[
            FormInput("name", label("name"), initial=values.get("name", "Cross-selling week")),
            FormInput(
                "start", label("first_day"), "date", initial=values.get("start", first.isoformat())
            ),
            FormInput(
                "end",
                label("last_day"),
                "date",
                initial=values.get("end", (first + timedelta(days=4)).isoformat()),
            ),
            _everyone_unless_named("teams", label("teams_taking_part"), values),
            _everyone_unless_named("offices", label("offices_taking_part"), values),
            FormInput(
                "preset",
                label("rules"),
                "select",
                initial=values.get("preset", "standard"),
                options=presets,
            ),
        ],
    )
    intro = render("campaign_form_intro", timezone=ctx.settings.timezone, presets=presets)
    return Reply(intro, form=form, kind="campaign_form_intro")


def _everyone_unless_named(name: str, title: str, values: dict[str, Any]) -> FormInput:
    """An optional list of teams or offices taking part: left empty, everyone takes part."""
    return FormInput(
        name,
        title,
        required=False,
        initial=values.get(name, ""),
        placeholder=label("empty_is_everyone"),
    )


def _create(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    if not me.is_admin:
        return campaign_command(turn, ctx, me, "start")
    values = {k: str(v or "").strip() for k, v in turn.payload.items()}
    zone, now = ctx.settings.zone, ctx.now()
    today = local_day(now, zone)
    try:
        start = campaigns.parse_day(values.get("start", ""), today)
        end = campaigns.parse_day(values.get("end", ""), today)
        for raw, parsed in ((values.get("start", ""), start), (values.get("end", ""), end)):
            if parsed is None:
                raise CampaignError("bad_date", value=raw)
        assert start is not None and end is not None
        with ctx.store.write() as session:
            # A name typed in either field counts as whichever it is: a team or an office.
            typed = ", ".join([values.get("teams", ""), values.get("offices", "")])
            teams, offices = campaigns.split_names(typed, session)
            campaign = campaigns.create_campaign(
                session,
                name=values.get("name", ""),
                start=start,
                end=end,
                now=now,
                zone=zone,
                teams=teams,
                offices=offices,
                preset=values.get("preset", "") or "standard",
                created_by=me,
            )
            started = campaign.starts_at <= now
            announcements = (
                campaigns.start_campaign(session, campaign, now, ctx.settings) if started else []
            )
            if started and not ctx.settings.digest_channel:
                announcements = [_announcement_here(campaign, ctx)]
    except CampaignError as exc:
        if exc.code == "already_created":  # the form sent twice: nothing to fix
            return _error(exc)
        return _error(exc) + [_start_form(ctx, values)]
    text = render(
        "campaign_created",
        campaign=campaign,
        started=started,
        first_day=local_day(campaign.starts_at, zone),
        last_day=campaigns.last_day(campaign, zone),
        preset=PRESET_LABELS.get(values.get("preset", "") or "standard", "standard"),
        channel=ctx.settings.digest_channel,
    )
    return [Reply(text, kind="campaign_created"), *announcements]


def _announcement_here(campaign: Campaign, ctx: Context) -> Reply:
    """The start announcement shown to the admin, when there's no channel to post it in."""
    text = render(
        "campaign_start",
        campaign=campaign,
        last_day=campaigns.last_day(campaign, ctx.settings.zone),
        rules=campaigns.rules_lines(campaign),
    )
    return Reply(text, kind="campaign_start")


def _current(ctx: Context) -> Campaign | None:
    now = ctx.now()
    with ctx.store.read() as session:
        return campaigns.running_campaign(session, now) or campaigns.upcoming_campaign(session, now)


def _extend(ctx: Context, rest: str) -> list[Reply]:
    zone, now = ctx.settings.zone, ctx.now()
    try:
        new_end = campaigns.parse_day(rest, local_day(now, zone))
        if new_end is None:
            raise CampaignError("bad_date", value=rest)
        with ctx.store.write() as session:
            campaign = campaigns.running_campaign(session, now) or campaigns.upcoming_campaign(
                session, now
            )
            if campaign is None:
                raise CampaignError("no_campaign")
            campaigns.extend_campaign(session, campaign, new_end, now, zone)
    except CampaignError as exc:
        return _error(exc)
    text = render("campaign_extended", campaign=campaign, last_day=new_end)
    return [Reply(text, kind="campaign_extended")]


def _end(ctx: Context, me: Person) -> list[Reply]:
    now = ctx.now()
    with ctx.store.write() as session:
        campaign = campaigns.running_campaign(session, now) or campaigns.upcoming_campaign(
            session, now
        )
        if campaign is None:
            return _error(CampaignError("no_campaign"))
        campaign = campaigns.lock_campaign(session, campaign)
        if campaign.status == "ended":  # pressed twice: the other press ended it
            return _error(CampaignError("already_ended", name=campaign.name))
        ran = campaign.starts_at <= now
        replies = campaigns.end_campaign(session, campaign, now, ctx.settings)
        if ran and not ctx.settings.digest_channel:
            summary = campaigns.campaign_summary(session, campaign)
            boards = campaigns.compute_boards(session, campaign, now, ctx.settings.zone)
            replies.append(_summary_here(campaign, summary, boards))
    text = render("campaign_ended", campaign=campaign, ran=ran, channel=ctx.settings.digest_channel)
    return [Reply(text, kind="campaign_ended"), *replies]


def _summary_here(campaign: Campaign, summary: campaigns.Summary, boards: Boards) -> Reply:
    text = render(
        "campaign_summary",
        campaign=campaign,
        summary=summary,
        people=[s for s in boards.people if s.rank <= 3 and s.opted_in],
        team=boards.teams[0] if boards.teams and boards.teams[0].points > 0 else None,
        office=boards.offices[0] if boards.offices and boards.offices[0].points > 0 else None,
    )
    return Reply(text, kind="campaign_summary")


def _reverse(ctx: Context, me: Person, rest: str) -> list[Reply]:
    match = re.match(r"#?(\d+)\s*(.*)$", rest, re.S)
    if not match:
        return [Reply(render("campaign_usage", is_admin=True), kind="campaign_usage")]
    point_id, reason = int(match[1]), match[2].strip()
    if not is_row_id(point_id):
        return [Reply(render("not_found"), kind="not_found")]
    try:
        with ctx.store.write() as session:
            reversal = campaigns.reverse_award(session, point_id, reason, me, ctx.now())
            original = session.get(PointEvent, point_id)
            person = session.get(Person, reversal.person_id)
            campaign = session.get(Campaign, reversal.campaign_id)
            assert original is not None and person is not None and campaign is not None
    except CampaignError as exc:
        return _error(exc)
    done = render("campaign_reversed", original=original, reversal=reversal, person=person)
    notice = render(
        "campaign_reversal_notice", original=original, campaign=campaign, reason=reason, admin=me
    )
    return [
        Reply(done, kind="campaign_reversed"),
        Reply(notice, to_person=person.email, kind="campaign_reversal_notice"),
    ]


def _awards(ctx: Context, rest: str) -> list[Reply]:
    now = ctx.now()
    with ctx.store.read() as session:
        person = by_email(session, rest) if rest else None
        campaign = campaigns.latest_campaign(session, now)
        if person is None or campaign is None:
            return [Reply(render("campaign_usage", is_admin=True), kind="campaign_usage")]
        awards = list(
            session.exec(
                select(PointEvent)
                .where(PointEvent.campaign_id == campaign.id, PointEvent.person_id == person.id)
                .order_by(col(PointEvent.id))
            )
        )
    reversed_ids = {a.reverses_id for a in awards if a.reverses_id}
    text = render(
        "campaign_awards", person=person, campaign=campaign, awards=awards, reversed=reversed_ids
    )
    return [Reply(text, kind="campaign_awards", private=True)]


def _status(ctx: Context, me: Person) -> list[Reply]:
    now, zone = ctx.now(), ctx.settings.zone
    with ctx.store.read() as session:
        running = campaigns.running_campaign(session, now)
        campaign = running or campaigns.upcoming_campaign(session, now)
        if campaign is None:
            last = campaigns.latest_campaign(session, now)
            text = render("campaign_none", is_admin=me.is_admin, last=last)
            return [Reply(text, kind="campaign_none")]
        standing = None
        if running is not None:
            standing = campaigns.compute_boards(session, running, now, zone).person(me.id)
    first_day = local_day(campaign.starts_at, zone)
    text = render(
        "campaign_status",
        campaign=campaign,
        running=running is not None,
        first_day=first_day,
        last_day=campaigns.last_day(campaign, zone),
        day=(local_day(now, zone) - first_day).days + 1,
        days_left=(campaigns.last_day(campaign, zone) - local_day(now, zone)).days,
        rules=campaigns.rules_lines(campaign),
        participant=campaigns.is_participant(campaign, me),
        standing=standing,
    )
    return [Reply(text, buttons=_board_buttons(), kind="campaign_status")]


def _history(ctx: Context) -> list[Reply]:
    zone = ctx.settings.zone
    with ctx.store.read() as session:
        rows = [
            (c, local_day(c.starts_at, zone), campaigns.last_day(c, zone))
            for c in campaigns.campaign_history(session)
        ]
    return [Reply(render("campaign_history", rows=rows), kind="campaign_history")]


# -- leaderboards ------------------------------------------------------------------------

_BOARDS = {
    "": "people",
    "people": "people",
    "person": "people",
    "individuals": "people",
    "teams": "teams",
    "team": "teams",
    "offices": "offices",
    "office": "offices",
    "me": "me",
    "mine": "me",
    "my": "me",
}
_OPT = {"optin": True, "on": True, "opt-in": True, "join": True, "show": True}
_OPT |= {"optout": False, "off": False, "opt-out": False, "leave": False, "hide": False}


def leaderboard_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    words = args.strip().lower().split()
    word = "".join(words[:2]) if words[:2] in (["opt", "in"], ["opt", "out"]) else ""
    word = word or (words[0] if words else "")
    if word in _OPT:
        return _opt(ctx, me, _OPT[word])
    if word in _BOARDS:
        return board(ctx, me, _BOARDS[word])
    return [Reply(render("leaderboard_usage"), kind="leaderboard_usage")]


def _opt(ctx: Context, me: Person, on: bool) -> list[Reply]:
    with ctx.store.write() as session:
        campaigns.set_opt_in(session, me, on)
    return [Reply(render("leaderboard_optin", on=on), kind="leaderboard_optin", private=True)]


def _board_buttons() -> list[Button]:
    return [
        Button(label("people"), "leaderboard.show", {"board": "people"}),
        Button(label("teams"), "leaderboard.show", {"board": "teams"}),
        Button(label("offices"), "leaderboard.show", {"board": "offices"}),
        Button(label("me"), "leaderboard.show", {"board": "me"}),
    ]


def board(ctx: Context, me: Person, which: str) -> list[Reply]:
    """One leaderboard: people (opted-in names only), teams, offices, or just me (private)."""
    now, zone = ctx.now(), ctx.settings.zone
    with ctx.store.read() as session:
        campaign = campaigns.latest_campaign(session, now)
        if campaign is None:
            text = render("leaderboard_none", is_admin=me.is_admin)
            return [Reply(text, kind="leaderboard_none")]
        boards = campaigns.compute_boards(session, campaign, now, zone)
        race = campaigns.race_chart(session, campaign, now, zone) if which == "teams" else None
        if which == "me":
            me = session.get(Person, me.id) or me  # its opt-in afresh: the toggle shows it
            awards = list(
                session.exec(
                    select(PointEvent)
                    .where(PointEvent.campaign_id == campaign.id, PointEvent.person_id == me.id)
                    .order_by(col(PointEvent.id).desc())
                    .limit(5)
                )
            )
            return [_me(boards, me, awards)]
    if which == "teams":  # the chart comes from the cache, after the read has ended
        return [_groups(boards, "teams", cached_chart(ctx.store, race) if race else None)]
    if which == "offices":
        return [_groups(boards, "offices", None)]
    return _people(boards, me)


def _people(boards: Boards, me: Person) -> list[Reply]:
    text = render(
        "leaderboard_people",
        campaign=boards.campaign,
        rows=boards.public_top(10),
        hidden=boards.hidden,
        move=movement_word,
    )
    replies = [Reply(text, buttons=_board_buttons(), kind="leaderboard_people")]
    mine = boards.person(me.id)
    if mine is not None and not mine.opted_in:
        private = render("leaderboard_private_rank", standing=mine)
        replies.append(Reply(private, private=True, kind="leaderboard_private_rank"))
    return replies


def _groups(boards: Boards, which: str, chart: bytes | None) -> Reply:
    everyone = boards.teams if which == "teams" else boards.offices
    rows = [s for s in everyone if s.points != 0]
    by_points = sorted(rows, key=lambda s: (s.rank, s.name))
    text = render(
        "leaderboard_teams",
        campaign=boards.campaign,
        label=which,
        unit="team" if which == "teams" else "office",
        by_head=rows[:10],
        by_points=by_points[:10],
        waiting=len(everyone) - len(rows),
        move=movement_word,
    )
    alt = f"{boards.campaign.name}: team race, points per head"
    return Reply(
        text,
        buttons=_board_buttons(),
        image=chart,
        image_alt=alt if chart else "",
        kind="leaderboard_teams",
    )


def _me(boards: Boards, me: Person, awards: list[PointEvent]) -> Reply:
    text = render(
        "leaderboard_me",
        campaign=boards.campaign,
        standing=boards.person(me.id),
        total=boards.scorers,
        participant=campaigns.is_participant(boards.campaign, me),
        points=campaigns.rules_of(boards.campaign)["points"],
        team=boards.team(me.team),
        opted_in=me.leaderboard_opt_in,
        awards=awards,
        move=movement_word,
    )
    toggle = (
        Button(label("hide_my_name"), "leaderboard.optout")
        if me.leaderboard_opt_in
        else Button(label("show_my_name"), "leaderboard.optin")
    )
    return Reply(text, buttons=[toggle], private=True, kind="leaderboard_me")


# -- ideas -------------------------------------------------------------------------------


def idea_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/idea Northwind might need R&D tax relief because they're building a new plant`."""
    if not args.strip():
        return [Reply(render("idea_usage"), kind="idea_usage")]
    now = ctx.now()
    try:
        with ctx.store.write() as session:
            idea, awards = campaigns.record_idea(session, me, args, now)
            campaign = session.get(Campaign, idea.campaign_id) if idea.campaign_id else None
            card = session.get(ServiceCard, idea.card_id) if idea.card_id else None
    except CampaignError as exc:
        return _error(exc, "idea_error")
    text = render(
        "idea_recorded",
        idea=idea,
        points=sum(a.points for a in awards),
        campaign=campaign,
        card=card,
    )
    buttons = [
        Button(label("turn_it_into_a_referral"), "idea.to_referral", {"idea": idea.id}, "primary"),
        Button(label("see_all_ideas"), "idea.list"),
    ]
    return [Reply(text, buttons=buttons, kind="idea_recorded")]


def ideas_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """The ideas of the running (or last) campaign, most upvoted first."""
    with ctx.store.read() as session:
        campaign, rows = campaigns.list_ideas(session, me, ctx.now())
    buttons = [
        Button(label("upvote_idea", id=row.idea.id), "idea.upvote", {"idea": row.idea.id})
        for row in rows[:5]
        if not row.mine and not row.voted
    ]
    text = render("idea_list", campaign=campaign, rows=rows)
    return [Reply(text, buttons=buttons, kind="idea_list")]


def _idea_id(turn: Turn) -> int:
    try:
        return int(turn.payload.get("idea") or 0)
    except (TypeError, ValueError):
        return 0


def _upvote(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    idea_id = _idea_id(turn)
    try:
        with ctx.store.write() as session:
            idea = campaigns.upvote(session, idea_id, me, ctx.now())
            session.flush()
            votes = campaigns.idea_votes(session, idea_id)
    except CampaignError as exc:
        return _error(exc, "idea_error")
    return [Reply(render("idea_upvoted", idea=idea, votes=votes), kind="idea_upvoted")]


def _to_referral(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    """An idea becomes a referral: the referral form, filled in from the idea."""
    try:
        with ctx.store.read() as session:
            prefill = campaigns.idea_referral_prefill(session, _idea_id(turn), me)
    except CampaignError as exc:
        return _error(exc, "idea_error")
    # The referral flow's own entry point: its form, pre-filled from the idea's text and card.
    form_turn = Turn(
        person=turn.person,
        conversation=turn.conversation,
        action="referral.form",
        payload={"text": prefill["text"], "card": prefill["card"]},
        platform=turn.platform,
    )
    forms = referral.ACTIONS["referral.form"](form_turn, ctx, me)
    for reply in forms:
        if reply.form is not None:
            reply.form.context = {**reply.form.context, "idea": prefill["idea"]}
    text = render("idea_to_referral", prefill=prefill)
    return [Reply(text, kind="idea_to_referral"), *forms]


# -- routing -----------------------------------------------------------------------------


def _word(word: str) -> ActionHandler:
    """A button that does what `/crossbot campaign <word>` does."""

    def action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        return campaign_command(turn, ctx, me, word)

    return action


def _show_board(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return board(ctx, me, _BOARDS.get(str(turn.payload.get("board", "")), "people"))


COMMANDS: dict[str, CommandHandler] = {
    "idea": idea_command,
    "ideas": ideas_command,
    "leaderboard": leaderboard_command,
    "campaign": campaign_command,
}
ACTIONS: dict[str, ActionHandler] = {
    "campaign.create": _create,
    "campaign.status": _word("status"),
    "campaign.history": _word("history"),
    "campaign.start": _word("start"),
    "campaign.end": _word("end"),
    "leaderboard.show": _show_board,
    "leaderboard.optin": lambda turn, ctx, me: _opt(ctx, me, True),
    "leaderboard.optout": lambda turn, ctx, me: _opt(ctx, me, False),
    "idea.upvote": _upvote,
    "idea.to_referral": _to_referral,
    "idea.list": lambda turn, ctx, me: ideas_command(turn, ctx, me, ""),
}


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """ "Show me the leaderboard", "how am I doing?"."""
    text = turn.text.strip()
    if not _LEADERBOARD_TALK.search(text):
        return None
    which = "me" if _ME_TALK.search(text) and "leaderboard" not in text.lower() else "people"
    return board(ctx, me, which)
