"""Cross-selling weeks: campaigns, the points ledger, ideas and leaderboards.

The referral, story and idea modules call the `award_for_*` functions inside their own
transactions, so a point is written in the same transaction as the event that earned it.
Every award is a `PointEvent` whose key names (campaign, source, person, kind): a retried or
replayed event finds its key taken and scores nothing. Nothing is ever deleted from the
ledger; an admin's reversal is a compensating row.

Leaderboards sum the ledger once per process and then read only the rows added since
(`_boards`); the announcements the scheduler posts are plain functions returning `Reply`s.

Where things live: `_rules` (points rules, presets), `_time` (firm-day arithmetic),
`_lifecycle` (find, create, extend; who takes part), `_ledger` (awards, anti-gaming,
reversals), `_boards` (leaderboards, team race), `_ideas`, `_announcements` (what the
scheduler posts). Callers import from `bot.campaigns`, never from the private modules.
"""

from bot.campaigns._announcements import (
    Summary,
    campaign_summary,
    daily_standings,
    encouragements,
    end_campaign,
    end_due_campaigns,
    race_chart,
    rules_lines,
    standings_chart,
    start_campaign,
    start_due_campaigns,
)
from bot.campaigns._boards import (
    Boards,
    Standing,
    compute_boards,
    movement_word,
    set_opt_in,
    team_race,
)
from bot.campaigns._ideas import (
    IdeaRow,
    ParsedIdea,
    idea_referral_prefill,
    idea_votes,
    list_ideas,
    parse_idea,
    record_idea,
    upvote,
)
from bot.campaigns._ledger import (
    award_for_idea,
    award_for_referral_event,
    award_for_story,
    get_settings_zone,
    link_idea_to_referral,
    pending_flags,
    point_key,
    reverse_award,
)
from bot.campaigns._lifecycle import (
    Member,
    campaign_history,
    create_campaign,
    extend_campaign,
    is_participant,
    last_day,
    latest_campaign,
    lock_campaign,
    participants,
    running_campaign,
    split_names,
    upcoming_campaign,
)
from bot.campaigns._rules import (
    DEFAULT_RULES,
    ENCOURAGE_KIND,
    FLAG_KIND,
    KINDS,
    PRESETS,
    REVERSAL,
    CampaignError,
    rules_for,
    rules_of,
    win_bonus,
)
from bot.local_time import day_bounds, local_day, local_midnight, parse_day

__all__ = [
    "Boards",
    "CampaignError",
    "DEFAULT_RULES",
    "ENCOURAGE_KIND",
    "FLAG_KIND",
    "IdeaRow",
    "KINDS",
    "Member",
    "PRESETS",
    "ParsedIdea",
    "REVERSAL",
    "Standing",
    "Summary",
    "award_for_idea",
    "award_for_referral_event",
    "award_for_story",
    "campaign_history",
    "campaign_summary",
    "compute_boards",
    "create_campaign",
    "daily_standings",
    "day_bounds",
    "encouragements",
    "end_campaign",
    "end_due_campaigns",
    "extend_campaign",
    "get_settings_zone",
    "idea_referral_prefill",
    "idea_votes",
    "is_participant",
    "last_day",
    "latest_campaign",
    "link_idea_to_referral",
    "list_ideas",
    "lock_campaign",
    "local_day",
    "local_midnight",
    "movement_word",
    "parse_day",
    "parse_idea",
    "participants",
    "pending_flags",
    "point_key",
    "race_chart",
    "record_idea",
    "reverse_award",
    "rules_for",
    "rules_lines",
    "rules_of",
    "running_campaign",
    "set_opt_in",
    "split_names",
    "standings_chart",
    "start_campaign",
    "start_due_campaigns",
    "team_race",
    "upcoming_campaign",
    "upvote",
    "win_bonus",
]
