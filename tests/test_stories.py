"""Win stories: submission, review, anonymity and the owner's approval, list/edit/withdraw."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, frozen_clock
from tests.story_support import JAMES, NOW, OWEN, PRIYA, SAM, STORY, stories, won_referral

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

clock = frozen_clock(NOW, autouse=True)


def test_ambassador_story_is_published_to_the_digest_channel(chat, digest_ctx):
    me = chat(SAM)
    form = me.send("/story")
    assert form[0].form is not None and form[0].form.submit_action == "story.submit"
    replies = me.submit(STORY)
    kinds = [r.kind for r in replies]
    assert "story_saved" in kinds and "Published" in replies[0].text
    post = next(r for r in replies if r.kind == "story_post")
    assert post.to_channel == "C-DIGEST" and "Tax and Employment win together" in post.text
    [story] = stories(digest_ctx)
    assert story.status == "published" and story.published_at == NOW
    assert (
        story.value == 20_000 and story.currency == "GBP" and story.teams == ["Tax", "Employment"]
    )


def test_story_typed_in_chat_prefills_the_form(chat):
    replies = chat(SAM).send("story: We helped a Tax client with Employment advice. It went well.")
    form = replies[0].form
    assert form is not None
    initial = {i.name: i.initial for i in form.inputs}
    assert initial["title"] == "We helped a Tax client with Employment advice"
    assert initial["teams"] == "Employment, Tax"


def test_bad_input_gets_a_kind_message_and_the_form_again(chat, ctx):
    me = chat(SAM)
    me.send("/story")
    replies = me.submit({**STORY, "teams": "Tax, Basket weaving", "value": "lots"})
    assert replies[0].kind == "story_problem" and "lots" in replies[0].text
    assert replies[1].form is not None
    replies = me.submit({**STORY, "teams": "Tax, Basket weaving"})
    assert "Basket weaving" in replies[0].text and "Employment" in replies[0].text
    assert stories(ctx) == []


def test_member_story_waits_for_an_ambassador(chat, digest_ctx):
    owen = chat(OWEN)
    owen.send("/story")
    replies = owen.submit({**STORY, "teams": "Employment"})
    assert "review" in replies[0].text
    requests = [r for r in replies if r.kind == "story_review_request"]
    assert requests and all(r.to_person for r in requests)
    assert not any(r.kind == "story_post" for r in replies)
    [story] = stories(digest_ctx)
    assert story.status == "pending"

    # A member cannot approve; an ambassador can, which publishes and tells the author.
    assert chat(PRIYA).press("story.approve", {"story": story.id})[0].kind == "story_problem"
    replies = chat(SAM).press("story.approve", {"story": story.id})
    assert replies[0].kind == "story_reviewed"
    news = next(r for r in replies if r.kind == "story_news")
    assert news.to_person == OWEN and "published" in news.text
    assert any(r.kind == "story_post" for r in replies)
    assert stories(digest_ctx)[0].status == "published"


def test_decline_tells_the_author(chat, ctx):
    owen = chat(OWEN)
    owen.send("/story")
    owen.submit({**STORY, "teams": "Employment"})
    story = stories(ctx)[0]
    replies = chat(ADMIN).press("story.decline", {"story": story.id})
    assert any(r.kind == "story_news" and r.to_person == OWEN for r in replies)
    assert stories(ctx)[0].status == "declined"


def test_client_is_anonymous_by_default(chat, digest_ctx):
    referral_id = won_referral(digest_ctx)
    # Owen is not a party to the referral: its details stay private.
    assert chat(OWEN).press("story.from_referral", {"referral": referral_id})[0].kind == (
        "story_problem"
    )
    form = chat(SAM).press("story.from_referral", {"referral": referral_id})
    initial = {i.name: i.initial for i in form[0].form.inputs}
    assert initial["referral"] == str(referral_id) and initial["value"] == "30,000"
    replies = chat(SAM).press(
        "story.submit", {**STORY, "referral": str(referral_id), "name_client": "no"}
    )
    post = next(r for r in replies if r.kind == "story_post")
    assert "Northwind" not in post.text and "a food manufacturing client" in post.text


def test_naming_the_client_needs_the_owner(chat, digest_ctx):
    referral_id = won_referral(digest_ctx)
    replies = chat(SAM).press(
        "story.submit", {**STORY, "referral": str(referral_id), "name_client": "yes"}
    )
    ask = next(r for r in replies if r.kind == "story_owner_request")
    assert ask.to_person == JAMES and "Northwind Foods Ltd" in ask.text
    assert [b.label for b in ask.buttons] == ["Approve", "Keep anonymous"]
    assert not any(r.kind == "story_post" for r in replies)
    story = stories(digest_ctx)[0]
    assert story.status == "pending" and story.client_approval == "pending"

    # Only the owner may answer.
    assert chat(SAM).press("story.owner_approve", {"story": story.id})[0].kind == "story_problem"
    replies = chat(JAMES).press("story.owner_approve", {"story": story.id})
    post = next(r for r in replies if r.kind == "story_post")
    assert "Northwind Foods Ltd" in post.text
    assert stories(digest_ctx)[0].status == "published"


def test_owner_can_keep_the_client_anonymous(chat, digest_ctx):
    referral_id = won_referral(digest_ctx)
    chat(SAM).press("story.submit", {**STORY, "referral": str(referral_id), "name_client": "yes"})
    story = stories(digest_ctx)[0]
    replies = chat(JAMES).press("story.owner_anonymous", {"story": story.id})
    post = next(r for r in replies if r.kind == "story_post")
    assert "Northwind" not in post.text and "food manufacturing" in post.text
    # A second answer is refused kindly.
    assert chat(JAMES).press("story.owner_approve", {"story": story.id})[0].kind == "story_problem"


def test_list_edit_and_withdraw(chat, ctx):
    me = chat(SAM)
    me.press("story.submit", STORY)
    story = stories(ctx)[0]
    listing = me.send("/stories")
    assert STORY["title"] in listing[0].text
    # Someone else cannot edit or withdraw it.
    assert chat(OWEN).press("story.withdraw", {"story": story.id})[0].kind == "story_problem"
    form = me.press("story.edit", {"story": story.id})
    assert form[0].form is not None and form[0].form.context == {"story": story.id}
    me.submit({**STORY, "title": "A better title"})
    assert stories(ctx)[0].title == "A better title"
    replies = chat(ADMIN).press("story.withdraw", {"story": story.id})
    assert replies[0].kind == "story_withdrawn"
    assert stories(ctx)[0].status == "withdrawn"


def test_a_reviewer_can_edit_then_publish(chat, digest_ctx):
    owen = chat(OWEN)
    owen.press("story.submit", {**STORY, "teams": "Employment"})
    story = stories(digest_ctx)[0]
    sam = chat(SAM)
    form = sam.press("story.edit", {"story": story.id})
    assert form[0].form is not None
    replies = sam.submit({**STORY, "teams": "Employment", "title": "Polished title"})
    assert any(r.kind == "story_news" and r.to_person == OWEN for r in replies)
    assert any(r.kind == "story_post" and "Polished title" in r.text for r in replies)
    story = stories(digest_ctx)[0]
    assert story.status == "published" and story.author_id != story.reviewed_by_id
