"""An anonymous story never names a client; an edited published story is reviewed again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import digest
from bot.catalog import load_catalog
from bot.context import Context
from bot.store.models import Client
from bot.story_privacy import KnownClients
from bot.understand import Directory, client_mentions
from tests import factories
from tests.conftest import SAMPLE_CONTENT, frozen_clock
from tests.story_support import JAMES, NOW, OWEN, SAM, STORY, stories, won_referral

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

STORY = {**STORY, "value": ""}  # no value: the stories here are about names

clock = frozen_clock(NOW, autouse=True)


def _digest_stories(ctx: Context) -> list[digest.StoryItem]:
    with ctx.store.read() as session:
        return digest.story_items(session, NOW - timedelta(days=7), NOW + timedelta(days=1))


def naming(ctx: Context, **fields: str) -> dict[str, str]:
    """A story of Sam's won referral of Northwind Foods (James's client) that asks to name it."""
    return {**STORY, "referral": str(won_referral(ctx)), "name_client": "yes", **fields}


def test_an_anonymous_story_naming_a_client_comes_back_with_the_sector(chat, digest_ctx):
    me = chat(SAM)
    story = {
        **STORY,
        "title": "Acme and the TUPE surprise",
        "body": "Spotted a TUPE issue at Northwind during a tax review. Acme's board was pleased.",
    }
    replies = me.press("story.submit", story)
    assert [r.kind for r in replies] == ["story_problem", "story_form"]
    problem = replies[0].text
    assert "Northwind" in problem and "a food manufacturing client" in problem
    assert "A logistics and warehousing client's board was pleased." in problem
    assert stories(digest_ctx) == []  # nothing saved, nothing published

    # The form comes back with the names replaced: accepting it as it is publishes.
    suggestion = {i.name: i.initial for i in replies[1].form.inputs}
    assert suggestion["title"] == "A logistics and warehousing client and the TUPE surprise"
    assert "Northwind" not in suggestion["body"] and "Acme" not in suggestion["body"]
    replies = me.submit(suggestion)
    post = next(r for r in replies if r.kind == "story_post")
    assert "Northwind" not in post.text and "Acme" not in post.text
    assert stories(digest_ctx)[0].status == "published"


def test_a_client_with_no_sector_is_described_kindly(chat, ctx):
    with ctx.store.write() as session:
        session.add(Client(name="Quillfeather Partners", sector=""))
    replies = chat(SAM).press(
        "story.submit", {**STORY, "body": "Quillfeather Partners came back for more."}
    )
    assert replies[0].kind == "story_problem"
    assert "A client of the firm came back for more." in replies[0].text


def test_a_named_story_may_name_only_its_own_client(chat, digest_ctx):
    other = naming(digest_ctx, body="Northwind Foods liked it, and so did Blue Fin Hotels.")
    replies = chat(SAM).press("story.submit", other)
    assert replies[0].kind == "story_problem" and "Blue Fin Hotels" in replies[0].text
    first_line = replies[0].text.split("\n", 1)[0]
    assert "Northwind" not in first_line  # its own client may be named, if the owner agrees
    assert "Northwind Foods liked it, and so did a hospitality client." in replies[0].text
    assert stories(digest_ctx) == []


def test_keep_anonymous_hides_the_name_the_story_itself_wrote(chat, digest_ctx):
    named = naming(
        digest_ctx, title="Northwind's TUPE win", body="Northwind Foods Ltd asked us about TUPE."
    )
    replies = chat(SAM).press("story.submit", named)
    ask = next(r for r in replies if r.kind == "story_owner_request")
    assert "Northwind" in ask.text  # the owner sees what would be published
    story = stories(digest_ctx)[0]
    replies = chat(JAMES).press("story.owner_anonymous", {"story": story.id})
    post = next(r for r in replies if r.kind == "story_post")
    assert "Northwind" not in post.text and "a food manufacturing client" in post.text.lower()
    [item] = _digest_stories(digest_ctx)
    assert "Northwind" not in item.title + item.body
    assert item.title == "A food manufacturing client's TUPE win"
    assert item.body == "A food manufacturing client asked us about TUPE."


def test_an_approved_name_stays_in_the_digest(chat, digest_ctx):
    named = naming(digest_ctx, body="Northwind asked us about TUPE.")
    chat(SAM).press("story.submit", named)
    story = stories(digest_ctx)[0]
    chat(JAMES).press("story.owner_approve", {"story": story.id})
    [item] = _digest_stories(digest_ctx)
    assert item.body == "Northwind asked us about TUPE."


def test_reviewers_see_the_privacy_check(chat, digest_ctx):
    replies = chat(OWEN).press("story.submit", {**STORY, "teams": "Employment"})
    request = next(r for r in replies if r.kind == "story_review_request")
    assert "Privacy check" in request.text and "no client names" in request.text

    named = naming(digest_ctx, teams="Employment", body="Northwind asked us about TUPE.")
    with digest_ctx.store.write() as session:  # Owen may link the referral as its receiver
        referral = session.get(factories.Referral, int(named["referral"]))
        assert referral is not None
        referral.receiver_id = factories.person(session, OWEN).id  # type: ignore[assignment]
    replies = chat(OWEN).press("story.submit", named)
    request = next(r for r in replies if r.kind == "story_review_request")
    assert "Privacy check" in request.text and "Northwind" not in request.text
    assert "a food manufacturing client" in request.text


def test_editing_a_published_story_sends_it_back_for_review(chat, digest_ctx):
    owen, sam = chat(OWEN), chat(SAM)
    owen.press("story.submit", {**STORY, "teams": "Employment"})
    story = stories(digest_ctx)[0]
    sam.press("story.approve", {"story": story.id})
    assert stories(digest_ctx)[0].status == "published"

    owen.press("story.edit", {"story": story.id})
    replies = owen.submit({**STORY, "teams": "Employment", "body": "We did even better."})
    assert "review" in replies[0].text
    assert not any(r.kind == "story_post" for r in replies)
    [request] = [r for r in replies if r.kind == "story_review_request"]
    assert request.to_person == SAM and "edited" in request.text
    story = stories(digest_ctx)[0]
    assert story.status == "pending" and story.reviewed_by_id is None
    assert story.body == "We did even better."
    assert _digest_stories(digest_ctx) == []

    replies = sam.press("story.approve", {"story": story.id})
    assert any(r.kind == "story_post" and "We did even better." in r.text for r in replies)
    assert stories(digest_ctx)[0].status == "published"


def test_an_edit_that_names_a_client_is_refused(chat, digest_ctx):
    sam = chat(SAM)
    sam.press("story.submit", STORY)
    story = stories(digest_ctx)[0]
    sam.press("story.edit", {"story": story.id})
    replies = sam.submit({**STORY, "body": "Acme Logistics plc loved it."})
    assert replies[0].kind == "story_problem"
    assert stories(digest_ctx)[0].body == STORY["body"]


CLIENTS = load_catalog(SAMPLE_CONTENT).clients
FORMS = [form for c in CLIENTS for form in (c.name, *c.aliases)]
piece = st.one_of(
    st.sampled_from(FORMS),
    st.sampled_from(FORMS).map(str.upper),
    st.sampled_from(FORMS).map(lambda f: f.replace(" ", "  ").replace("'", "’") + "'s"),
    st.sampled_from(["the", "and", "a client", ",", ".", "Ltd", "plc", "(", "Group", "\n"]),
    st.text(max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(piece, max_size=8).map(" ".join))
def test_the_quick_filter_finds_what_the_full_matching_finds(text: str) -> None:
    known = KnownClients(CLIENTS)
    assert known.mentions(text) == client_mentions(text, Directory(clients=CLIENTS))


def test_saving_a_published_story_unchanged_keeps_it_published(chat, digest_ctx):
    owen = chat(OWEN)
    owen.press("story.submit", {**STORY, "teams": "Employment"})
    story = stories(digest_ctx)[0]
    chat(SAM).press("story.approve", {"story": story.id})
    owen.press("story.edit", {"story": story.id})
    replies = owen.submit({**STORY, "teams": "Employment"})
    assert not any(r.kind == "story_review_request" for r in replies)
    assert stories(digest_ctx)[0].status == "published"
