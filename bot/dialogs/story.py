"""Win stories in chat: the form, review by ambassadors, the owner's say on naming the client."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot import stories, story_privacy
from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler
from bot.messages import Button, Form, FormInput, Reply, Turn
from bot.money import firm_currency
from bot.render import label, money, render
from bot.store.models import Client, Person, Story
from bot.stories import Draft, Outcome, StoryError

NAME_OPTIONS = [("no", "No, keep the client anonymous"), ("yes", "Yes, if the owner agrees")]
MAX_REVIEWERS_TOLD = 10


# -- entry points used by the router --------------------------------------------------------


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/story` opens the form; `/story list` lists; `story: we helped…` prefills it."""
    if args.strip().lower() in ("list", "mine", "all"):
        return list_command(turn, ctx, me, "")
    if not args.strip():
        return [_form(Draft())]
    with ctx.store.read() as session:
        teams = stories.teams_mentioned(session, args)
    return [_form(Draft(title=stories.title_from(args), body=args.strip(), teams=teams))]


def list_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    with ctx.store.read() as session:
        own = [_view(session, s) for s in stories.mine(session, me)]
        queue = (
            [_view(session, s) for s in stories.awaiting_review(session)]
            if stories.is_reviewer(me)
            else []
        )
        waiting = stories.awaiting_owner(session, me)
        asks = [_view(session, s, named=True) for s in waiting]
        questions = [_owner_request(session, s, me) for s in waiting[:3]]
    buttons = [Button(label("edit"), "story.edit", {"story": v["id"]}) for v in own[:3]]
    buttons += [
        Button(label("approve"), "story.approve", {"story": v["id"]}, "primary") for v in queue[:3]
    ]
    return [
        Reply(
            render(
                "story_list", mine=own, queue=queue, asks=asks, reviewer=stories.is_reviewer(me)
            ),
            buttons=buttons,
            kind="story_list",
        ),
        *questions,  # the naming question, each with its own two buttons
    ]


def _guarded(handler: ActionHandler) -> ActionHandler:
    """A story action whose refusal (`StoryError`) becomes kind words."""

    def action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        try:
            return handler(turn, ctx, me)
        except StoryError as problem:
            return [_problem(problem)]

    return action


# -- actions ----------------------------------------------------------------------------------


def _open_form(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_form(Draft())]


def _from_referral(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    referral_id = _int(turn.payload.get("referral"))
    if referral_id is None:
        raise StoryError("story_no_referral", referral=turn.payload.get("referral", ""))
    with ctx.store.read() as session:
        draft = stories.draft_from_referral(session, referral_id, me)
    return [_form(draft)]


def _submit(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    values = turn.payload
    story_id = _int(values.get("story"))
    with ctx.store.write() as session:
        try:
            draft = _draft(session, values)
            if story_id is None:
                outcome = stories.submit(session, me, draft, ctx.now())
            else:
                outcome = stories.edit(session, story_id, me, draft, ctx.now())
        except StoryError as problem:
            session.rollback()
            if problem.code == "story_already_saved":  # sent twice: nothing to fix
                return [_problem(problem)]
            draft = _draft_lenient(values)
            if problem.suggestion is not None:  # the story without the client names it had
                draft.title, draft.body = problem.suggestion
            return [_problem(problem), _form(draft, story_id)]
        return _after(session, ctx, me, outcome, edited=story_id is not None)


def _edit(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    story_id = _int(turn.payload.get("story"))
    with ctx.store.read() as session:
        story = stories.get(session, story_id or 0)
        if not (
            stories.may_manage(me, story) or (stories.is_reviewer(me) and story.status == "pending")
        ):
            raise StoryError("story_not_yours", story=story.id)
        draft = Draft(
            story.title,
            story.body,
            list(story.teams),
            story.referral_id,
            story.value,
            story.currency,
            story.name_client,
        )
    return [_form(draft, story.id)]


def _review(approve: bool) -> Any:
    """An ambassador's or admin's approve/decline: the author hears unless they pressed it."""

    def handler(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        return _decided(turn, ctx, me, approve, reviewing=True)

    return handler


def _owner(approve: bool) -> Any:
    """The relationship owner's answer: the author hears once the story is published."""

    def handler(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        return _decided(turn, ctx, me, approve, reviewing=False)

    return handler


def _decided(turn: Turn, ctx: Context, me: Person, approve: bool, reviewing: bool) -> list[Reply]:
    """Apply a reviewer's or the owner's decision; tell the presser, the author, the channel."""
    story_id = _int(turn.payload.get("story")) or 0
    decide = stories.review if reviewing else stories.owner_answer
    template = "story_reviewed" if reviewing else "story_owner_answered"
    with ctx.store.write() as session:
        outcome = decide(session, story_id, me, approve, ctx.now())
        story = outcome.story
        shown: dict[str, Any] = {"approved": approve, "published": outcome.published}
        if reviewing:
            shown["owner"] = _owner_name(session, story)
        view = _view(session, story, named=not reviewing)  # only the owner sees the client
        replies = [Reply(render(template, story=view, **shown), kind=template)]
        author = session.get(Person, story.author_id)
        if reviewing and author is not None and author.id != me.id:
            replies.append(_news(session, story, author, reviewer=me))
        elif not reviewing and author is not None and outcome.published:
            replies.append(_news(session, story, author))
        if outcome.published:
            replies += _channel_post(session, ctx, story)
        return replies


def _withdraw(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    story_id = _int(turn.payload.get("story")) or 0
    with ctx.store.write() as session:
        story = stories.withdraw(session, story_id, me)
        return [
            Reply(render("story_withdrawn", story=_view(session, story)), kind="story_withdrawn")
        ]


def _list(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return list_command(turn, ctx, me, "")


COMMANDS: dict[str, CommandHandler] = {"story": command, "stories": list_command}
ACTIONS: dict[str, ActionHandler] = {
    "story.form": _guarded(_open_form),
    "story.new": _guarded(_open_form),
    "story.from_referral": _guarded(_from_referral),
    "story.submit": _guarded(_submit),
    "story.save": _guarded(_submit),
    "story.edit": _guarded(_edit),
    "story.approve": _guarded(_review(True)),
    "story.decline": _guarded(_review(False)),
    "story.owner_approve": _guarded(_owner(True)),
    "story.owner_anonymous": _guarded(_owner(False)),
    "story.withdraw": _guarded(_withdraw),
    "story.list": _guarded(_list),
}


# -- building replies -------------------------------------------------------------------------


def _after(
    session: Session, ctx: Context, me: Person, outcome: Outcome, edited: bool
) -> list[Reply]:
    story = outcome.story
    view = _view(session, story)
    owner = outcome.ask_owner
    replies = [
        Reply(
            render(
                "story_saved",
                story=view,
                edited=edited,
                published=outcome.published,
                needs_review=outcome.needs_review,
                back_to_review=outcome.back_to_review,
                owner=owner.name if owner else "",
                channel=bool(ctx.settings.digest_channel),
            ),
            buttons=[
                Button(label("edit"), "story.edit", {"story": story.id}),
                Button(label("withdraw"), "story.withdraw", {"story": story.id}, "danger"),
            ],
            kind="story_saved",
        )
    ]
    if owner is not None:
        request = _owner_request(session, story, owner)
        request.to_person = owner.email
        replies.append(request)
    if outcome.back_to_review:
        replies += _review_requests(session, story, me, outcome.reviewer, edited=True)
    elif outcome.needs_review and not edited:
        replies += _review_requests(session, story, me)
    if outcome.published:
        author = session.get(Person, story.author_id)
        if author is not None and author.id != me.id:  # a reviewer's edit published it
            replies.append(_news(session, story, author, reviewer=me))
        replies += _channel_post(session, ctx, story)
    return replies


def _owner_request(session: Session, story: Story, owner: Person) -> Reply:
    """The relationship owner's question: may the story name their client?"""
    author = session.get(Person, story.author_id)
    return Reply(
        render(
            "story_owner_request",
            story=_view(session, story, named=True),
            author=author.name if author else "",
            owner=owner.first_name,
        ),
        buttons=[
            Button(label("approve"), "story.owner_approve", {"story": story.id}, "primary"),
            Button(label("keep_anonymous"), "story.owner_anonymous", {"story": story.id}),
        ],
        kind="story_owner_request",
    )


def _review_requests(
    session: Session,
    story: Story,
    author: Person,
    previous: Person | None = None,
    edited: bool = False,
) -> list[Reply]:
    """Ask the ambassadors of the author's or the story's teams, else all of them, else admins;
    a published story edited since goes back to whoever approved it, if they still can."""
    reviewers = [
        p for p in session.exec(select(Person).where(Person.active)) if stories.is_reviewer(p)
    ]
    ambassadors = [p for p in reviewers if p.role == "ambassador"]
    teams = {author.team, *story.teams}
    same_team = [p for p in ambassadors if p.team in teams]
    chosen = same_team or ambassadors or reviewers
    if previous is not None and previous.id in {p.id for p in reviewers} and previous != author:
        chosen = [previous]
    view = _view(session, story)
    privacy = story_privacy.review_check(session, story)
    return [
        Reply(
            render(
                "story_review_request",
                story=view,
                author=author.name,
                reviewer=p.first_name,
                edited=edited,
                privacy=privacy,
                owner=_owner_name(session, story),
            ),
            buttons=[
                Button(label("approve"), "story.approve", {"story": story.id}, "primary"),
                Button(label("edit"), "story.edit", {"story": story.id}),
                Button(label("decline"), "story.decline", {"story": story.id}, "danger"),
            ],
            to_person=p.email,
            kind="story_review_request",
        )
        for p in chosen[:MAX_REVIEWERS_TOLD]
        if p.id != author.id
    ]


def _channel_post(session: Session, ctx: Context, story: Story) -> list[Reply]:
    channel = ctx.settings.digest_channel
    if not channel:
        return []
    return [
        Reply(
            render("story_post", story=_view(session, story)), to_channel=channel, kind="story_post"
        )
    ]


def _news(session: Session, story: Story, author: Person, reviewer: Person | None = None) -> Reply:
    return Reply(
        render(
            "story_news",
            story=_view(session, story),
            name=author.first_name,
            reviewer=reviewer.name if reviewer else "",
            owner=_owner_name(session, story),
        ),
        to_person=author.email,
        kind="story_news",
    )


def _problem(problem: StoryError) -> Reply:
    return Reply(render("story_problem", code=problem.code, **problem.data), kind="story_problem")


def _form(draft: Draft, story_id: int | None = None) -> Reply:
    value = "" if draft.value is None else f"{draft.value:,.0f}"
    if value and draft.currency and draft.currency != firm_currency():
        value += f" {draft.currency}"
    inputs = [
        FormInput(
            "title",
            label("title"),
            initial=draft.title,
            placeholder=label("story_title_example"),
        ),
        FormInput(
            "body",
            label("what_happened_2"),
            "textarea",
            initial=draft.body,
            placeholder=label("story_body_example"),
        ),
        FormInput(
            "teams",
            label("teams_involved"),
            initial=", ".join(draft.teams),
            placeholder=label("story_teams_example"),
        ),
        FormInput(
            "referral",
            label("linked_referral_number"),
            required=False,
            initial="" if draft.referral_id is None else str(draft.referral_id),
        ),
        FormInput(
            "value", label("value"), required=False, initial=value, placeholder=money(20_000)
        ),
        FormInput(
            "name_client",
            label("name_the_client"),
            "select",
            initial="yes" if draft.name_client else "no",
            options=NAME_OPTIONS,
        ),
    ]
    context = {} if story_id is None else {"story": story_id}
    return Reply(
        render("story_form_intro", editing=story_id is not None),
        form=Form(
            label("edit_story") if story_id else label("share_a_win"),
            "story.submit",
            inputs,
            label("save") if story_id else label("post"),
            context,
        ),
        kind="story_form",
    )


def _draft(session: Session, values: dict[str, Any]) -> Draft:
    value, currency = stories.parse_value(str(values.get("value") or ""))
    referral_text = str(values.get("referral") or "").strip().lstrip("#")
    referral_id = _int(referral_text)
    if referral_text and referral_id is None:
        raise StoryError("story_no_referral", referral=referral_text)
    return Draft(
        title=str(values.get("title") or "").strip(),
        body=str(values.get("body") or "").strip(),
        teams=stories.parse_teams(session, str(values.get("teams") or "")),
        referral_id=referral_id,
        value=value,
        currency=currency,
        name_client=str(values.get("name_client") or "no").strip().lower()
        in ("yes", "y", "true", "1"),
    )


def _draft_lenient(values: dict[str, Any]) -> Draft:
    """The form as it was filled in, to show it again after a problem."""
    teams = [t.strip() for t in str(values.get("teams") or "").split(",") if t.strip()]
    return Draft(
        title=str(values.get("title") or ""),
        body=str(values.get("body") or ""),
        teams=teams,
        referral_id=_int(str(values.get("referral") or "").lstrip("#")),
        name_client=str(values.get("name_client") or "no").lower() in ("yes", "y", "true", "1"),
    )


def _view(session: Session, story: Story, named: bool = False) -> dict[str, Any]:
    """What templates may show of a story; `named` only for the relationship owner's eyes."""
    client = session.get(Client, story.client_id) if story.client_id else None
    author = session.get(Person, story.author_id)
    title, body = (story.title, story.body) if named else story_privacy.public_text(session, story)
    return {
        "id": story.id,
        "title": title,
        "body": body,
        "teams": list(story.teams),
        "value": story.value,
        "currency": story.currency,
        "client": client.name if (named and client) else stories.client_label(client, story),
        "has_client": client is not None,
        "author": author.name if author else "",
        "status": story.status,
        "client_approval": story.client_approval,
    }


def _owner_name(session: Session, story: Story) -> str:
    owner = stories.owner_of(session, story)
    return owner.name if owner else ""


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
