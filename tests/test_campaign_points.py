"""Points rules and anti-gaming: every award goes through the seams the referral flow calls."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot import campaigns
from bot.campaigns import (
    CampaignError,
    award_for_idea,
    award_for_referral_event,
    award_for_story,
    record_idea,
    reverse_award,
    rules_for,
    win_bonus,
)
from bot.store.models import Campaign, Nudge, PointEvent, Story
from tests.campaign_support import (
    ALEX,
    CLIENTS,
    GRACE,
    JAMES,
    KIERAN,
    MONDAY,
    MORAG,
    NADIA,
    OWEN,
    PRIYA,
    SAM,
    TARIQ,
    later,
    ledger,
    make_campaign,
    points_of,
    refer,
    step,
)
from tests.factories import person

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

# -- the rules ---------------------------------------------------------------------------


def test_logging_a_referral_earns_a_small_amount_capped_per_day(ctx, week) -> None:
    with ctx.store.write() as s:
        priya = person(s, PRIYA)
        receivers = [person(s, e) for e in (SAM, MORAG, TARIQ, GRACE)]
        scored = [
            refer(s, priya, r, c, later(hours=1))[1]
            for r, c in zip(receivers, CLIENTS, strict=True)
        ]
        assert [sum(a.points for a in awards) for awards in scored] == [1, 1, 1, 0]
        assert {a.kind for awards in scored for a in awards} == {"logged"}
        # The cap is per firm day: tomorrow logging scores again.
        _, tomorrow = refer(s, priya, person(s, JAMES), CLIENTS[0], later(days=1))
        assert [a.points for a in tomorrow] == [1]


def test_steps_score_only_when_the_receiver_confirms_them(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        _, by_referrer = step(s, referral, "accepted", priya, later(hours=2))
        assert by_referrer == []  # the referrer can't mark their own referral accepted
        _, by_receiver = step(s, referral, "accepted", sam, later(hours=3))
        assert {(a.person_id, a.kind, a.points) for a in by_receiver} == {
            (priya.id, "accepted", 5),
            (sam.id, "accepted", 2),
        }


def test_first_meeting_and_a_win_with_its_value_band_bonus(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1), value=20_000)
        step(s, referral, "accepted", sam, later(hours=2))
        _, meeting = step(s, referral, "meeting", sam, later(days=1))
        assert sorted(a.points for a in meeting) == [5, 10]
        _, won = step(s, referral, "won", sam, later(days=2), won_value=60_000)
        by_person = {a.person_id: a.points for a in won}
        assert by_person == {priya.id: 25 + 25, sam.id: 10}
        assert points_of(s, priya) == 1 + 5 + 10 + 50


def test_win_bonus_bands() -> None:
    rules = rules_for("standard")
    assert [win_bonus(rules, v) for v in (None, 5_000, 10_000, 60_000, 300_000)] == [
        0,
        0,
        10,
        25,
        50,
    ]


def test_a_proposal_or_a_loss_earns_nothing(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        assert step(s, referral, "proposal", sam, later(hours=2))[1] == []
        assert step(s, referral, "lost", sam, later(hours=3))[1] == []


def test_ideas_and_published_stories_score(ctx, week) -> None:
    with ctx.store.write() as s:
        priya = person(s, PRIYA)
        idea, awards = record_idea(s, priya, "Northwind might need R&D tax relief", later(hours=1))
        assert [(a.kind, a.points) for a in awards] == [("idea", 2)]
        story = Story(author_id=priya.id or 0, title="A win", body="...", status="pending")
        s.add(story)
        s.flush()
        assert award_for_story(s, story, later(hours=2)) == []  # not published yet
        story.status = "published"
        assert [(a.kind, a.points) for a in award_for_story(s, story, later(hours=3))] == [
            ("story", 10)
        ]
        assert award_for_story(s, story, later(hours=4)) == []  # published twice: once


def test_nothing_scores_outside_a_campaign(ctx, clock) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, awards = refer(s, priya, sam, "Northwind Foods Ltd", MONDAY)
        assert awards == []
        assert step(s, referral, "accepted", sam, MONDAY)[1] == []
        assert record_idea(s, priya, "Acme may need VAT advice soon", MONDAY)[1] == []
        assert ledger(s) == []


def test_presets_change_the_points(ctx, clock) -> None:
    make_campaign(ctx, preset="ideas")
    with ctx.store.write() as s:
        _, awards = record_idea(s, person(s, PRIYA), "Acme may need VAT advice", later(hours=1))
        assert [a.points for a in awards] == [5]
    with pytest.raises(CampaignError) as error:
        rules_for("everything-counts")
    assert error.value.code == "unknown_preset"


# -- anti-gaming -------------------------------------------------------------------------


def test_a_referral_to_yourself_scores_nothing(ctx, week) -> None:
    with ctx.store.write() as s:
        priya = person(s, PRIYA)
        referral, logged = refer(s, priya, priya, "Northwind Foods Ltd", later(hours=1))
        assert logged == []
        assert step(s, referral, "accepted", priya, later(hours=2))[1] == []


def test_a_referral_inside_your_own_team_scores_nothing(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, owen = person(s, PRIYA), person(s, OWEN)
        referral, logged = refer(s, priya, owen, "Northwind Foods Ltd", later(hours=1))
        assert logged == []
        assert step(s, referral, "accepted", owen, later(hours=2))[1] == []


def test_own_team_referrals_count_when_the_rules_allow(ctx, clock) -> None:
    make_campaign(ctx, preset="open")
    with ctx.store.write() as s:
        priya, owen = person(s, PRIYA), person(s, OWEN)
        _, logged = refer(s, priya, owen, "Northwind Foods Ltd", later(hours=1))
        assert [a.points for a in logged] == [1]


def test_a_duplicate_referral_never_scores(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam, james = person(s, PRIYA), person(s, SAM), person(s, JAMES)
        card = "rd-tax-relief"
        first, _ = refer(s, priya, sam, "Pennine Dairies Ltd", later(hours=1), card=card)
        again, logged = refer(s, james, sam, "Pennine Dairies Ltd", later(hours=2), card=card)
        assert logged == []
        assert step(s, again, "accepted", sam, later(hours=3))[1] == []
        assert step(s, first, "accepted", sam, later(hours=4))[1] != []
        # A different service for the same client is not a duplicate.
        _, other = refer(s, james, person(s, KIERAN), "Pennine Dairies Ltd", later(hours=5))
        assert other != []


def test_a_daily_cap_per_person_per_action(ctx, week) -> None:
    with ctx.store.write() as s:
        priya = person(s, PRIYA)
        scored = [
            record_idea(s, priya, f"Idea number {n}: Acme could use VAT help", later(hours=1))[1]
            for n in range(6)
        ]
        assert [len(a) for a in scored] == [1, 1, 1, 1, 1, 0]
        _, tomorrow = record_idea(s, priya, "Blue Fin may need a rates review", later(days=1))
        assert len(tomorrow) == 1


def test_a_cap_per_pair_of_people(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        made = [refer(s, priya, sam, c, later(days=n)) for n, c in enumerate(CLIENTS)]
        assert [len(awards) for _, awards in made] == [1, 1, 1, 0]
        # Referrals within the cap keep scoring for their later steps; the fourth never does.
        assert step(s, made[0][0], "accepted", sam, later(days=4))[1] != []
        assert step(s, made[3][0], "accepted", sam, later(days=4))[1] == []
        # The cap counts both directions between the two people.
        _, back = refer(s, sam, priya, "Acme Logistics plc", later(days=4, hours=1))
        assert back == []


def test_back_and_forth_between_two_people_is_flagged_to_admins(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        refer(s, priya, sam, CLIENTS[0], later(hours=1))
        refer(s, sam, priya, CLIENTS[1], later(hours=2))
        refer(s, priya, sam, CLIENTS[2], later(hours=3))
        assert s.exec(select(Nudge).where(Nudge.kind == "campaign_flag")).all() == []
        refer(s, sam, priya, CLIENTS[3], later(hours=4))
        flags = s.exec(select(Nudge).where(Nudge.kind == "campaign_flag")).all()
        assert len(flags) == 2  # one per admin
        replies = campaigns.pending_flags(s, later(hours=5))
        assert {r.to_person for r in replies} == {ALEX, NADIA}
        assert all("Priya Shah" in r.text and "Sam Patel" in r.text for r in replies)
        assert campaigns.pending_flags(s, later(hours=6)) == []  # told once
        refer(s, priya, sam, "Pennine Dairies Ltd", later(hours=7))
        assert len(s.exec(select(Nudge).where(Nudge.kind == "campaign_flag")).all()) == 2


def test_replayed_events_never_score_twice(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        event, first = step(s, referral, "accepted", sam, later(hours=2))
        assert len(first) == 2
        assert award_for_referral_event(s, referral, event, later(hours=2)) == []
        # A retried delivery that wrote a second audit row for the same step: still once.
        _, again = step(s, referral, "accepted", sam, later(hours=3))
        assert again == []
        idea, _ = record_idea(s, priya, "Acme may need VAT advice soon", later(hours=4))
        assert award_for_idea(s, idea, later(hours=4)) == []
        keys = [p.key for p in ledger(s)]
        assert len(keys) == len(set(keys)) == 4


def test_an_events_awards_go_in_together_each_unless_its_key_is_taken(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, logged = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        _, accepted = step(s, referral, "accepted", sam, later(hours=2))
        # A win implies the meeting: four awards in one insert, the two accepted keys taken.
        _, won = step(s, referral, "won", sam, later(days=1), won_value=20_000)
        assert sorted((a.person_id, a.kind) for a in won) == sorted(
            [(priya.id, "meeting"), (sam.id, "meeting"), (priya.id, "won"), (sam.id, "won")]
        )
        assert all(a.id is not None for a in won)
        stored = {a.id: (a.person_id, a.kind, a.points) for a in ledger(s)}
        assert {a.id: (a.person_id, a.kind, a.points) for a in [*logged, *accepted, *won]} == stored


def test_only_participants_score(ctx, clock) -> None:
    make_campaign(ctx, teams=["Tax"], offices=[])
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        assert record_idea(s, priya, "Acme may need VAT advice", later(hours=1))[1] == []
        assert len(record_idea(s, sam, "Acme may need payroll help", later(hours=1))[1]) == 1
        # Priya (not taking part) refers to Sam (taking part): only Sam's share counts.
        referral, logged = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=2))
        assert logged == []
        _, accepted = step(s, referral, "accepted", sam, later(hours=3))
        assert [(a.person_id, a.points) for a in accepted] == [(sam.id, 2)]


def test_an_office_campaign(ctx, clock) -> None:
    make_campaign(ctx, offices=["Manchester"])
    with ctx.store.write() as s:
        assert record_idea(s, person(s, PRIYA), "Acme may need VAT", later(hours=1))[1] != []
        assert record_idea(s, person(s, OWEN), "Acme may need VAT", later(hours=1))[1] == []


# -- reversal ----------------------------------------------------------------------------


def test_an_admin_reversal_is_a_compensating_row(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam, alex = person(s, PRIYA), person(s, SAM), person(s, ALEX)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        _, accepted = step(s, referral, "accepted", sam, later(hours=2))
        award = next(a for a in accepted if a.person_id == priya.id)
        before = points_of(s, priya)
        reversal = reverse_award(s, award.id or 0, "not a real introduction", alex, later(hours=3))
        assert reversal.points == -award.points and reversal.reverses_id == award.id
        assert s.get(PointEvent, award.id) is not None  # never deleted
        assert points_of(s, priya) == before - 5
        for point_id, code in (
            (award.id, "already_reversed"),
            (reversal.id, "cannot_reverse_reversal"),
            (99_999, "no_such_award"),
        ):
            with pytest.raises(CampaignError) as error:
                reverse_award(s, point_id or 0, "", alex, later(hours=4))
            assert error.value.code == code


# -- campaigns ---------------------------------------------------------------------------


def test_dates_are_firm_days_stored_as_utc(ctx, clock) -> None:
    with ctx.store.write() as s:
        summer = campaigns.create_campaign(
            s,
            name="Summer week",
            start=date(2027, 6, 7),
            end=date(2027, 6, 11),
            now=MONDAY,
            zone=ctx.settings.zone,
        )
    assert summer.starts_at.isoformat() == "2027-06-06T23:00:00+00:00"  # midnight BST
    assert summer.ends_at.isoformat() == "2027-06-11T23:00:00+00:00"
    assert summer.status == "scheduled"


def test_one_campaign_at_a_time_extend_and_end_early(ctx, week) -> None:
    zone = ctx.settings.zone
    with ctx.store.write() as s:
        with pytest.raises(CampaignError) as error:
            campaigns.create_campaign(
                s,
                name="Clash",
                start=date(2026, 12, 3),
                end=date(2026, 12, 9),
                now=MONDAY,
                zone=zone,
            )
        assert error.value.code == "overlap"
        later_one = campaigns.create_campaign(
            s, name="Later", start=date(2026, 12, 14), end=date(2026, 12, 18), now=MONDAY, zone=zone
        )
        running = s.get(Campaign, week.id)
        assert running is not None
        campaigns.extend_campaign(s, running, date(2026, 12, 8), MONDAY, zone)
        assert campaigns.last_day(running, zone) == date(2026, 12, 8)
        with pytest.raises(CampaignError):
            campaigns.extend_campaign(s, running, date(2026, 12, 15), MONDAY, zone)  # overlap
        campaigns.end_campaign(s, running, later(days=1), ctx.settings)
        assert running.status == "ended" and running.ends_at == later(days=1)
        assert campaigns.running_campaign(s, later(days=2)) is None
        assert [c.name for c in campaigns.campaign_history(s)] == ["Later", "Winter week"]
        assert later_one.status == "scheduled"


def test_form_validation(ctx, clock) -> None:
    zone = ctx.settings.zone
    cases = [
        ({"name": " "}, "no_name"),
        ({"start": date(2026, 12, 4), "end": date(2026, 12, 1)}, "end_before_start"),
        ({"start": date(2026, 11, 1), "end": date(2026, 12, 1)}, "start_in_past"),
        ({"teams": ["Tax", "Astrology"]}, "unknown_names"),
        ({"preset": "chaos"}, "unknown_preset"),
    ]
    for options, code in cases:
        values = {"name": "Week", "start": date(2026, 12, 1), "end": date(2026, 12, 4)} | options
        with ctx.store.write() as s, pytest.raises(CampaignError) as error:
            campaigns.create_campaign(s, now=MONDAY, zone=zone, **values)
        assert error.value.code == code


def test_parse_day() -> None:
    today = date(2026, 11, 30)
    assert campaigns.parse_day("2026-12-04", today) == date(2026, 12, 4)
    assert campaigns.parse_day("4/12/2026", today) == date(2026, 12, 4)
    assert campaigns.parse_day("4 Dec", today) == date(2026, 12, 4)
    assert campaigns.parse_day("4th December 2026", today) == date(2026, 12, 4)
    assert campaigns.parse_day("tomorrow", today) == date(2026, 12, 1)
    assert campaigns.parse_day("31/02/2026", today) is None
    assert campaigns.parse_day("next week-ish", today) is None


def test_a_skipped_step_is_implied_and_an_admin_may_confirm(ctx, week) -> None:
    with ctx.store.write() as s:
        priya, sam, alex = person(s, PRIYA), person(s, SAM), person(s, ALEX)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1))
        _, won = step(s, referral, "won", alex, later(hours=2), won_value=5_000)
        mine = sorted((a.kind, a.points) for a in won if a.person_id == priya.id)
        assert mine == [("accepted", 5), ("meeting", 10), ("won", 25)]
        assert step(s, referral, "won", sam, later(hours=3))[1] == []
