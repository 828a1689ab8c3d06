"""Configuration from the environment (and `.env`), with the defaults of DESIGN.md."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.firm import Firm, is_timezone, read_firm
from bot.money import is_currency


class Settings(BaseSettings):
    """Every knob Crossbot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///./crossbot.db", alias="CROSSBOT_DATABASE_URL")
    content_dir: Path = Field(Path("./content"), alias="CROSSBOT_CONTENT_DIR")
    # Content snapshots of `crossbot ask` (bot/snapshot.py): a cache, safe to delete.
    cache_dir: Path = Field(default_factory=lambda: _user_cache(), alias="CROSSBOT_CACHE_DIR")
    # Both default to the content folder's firm.yaml, then to Europe/London and GBP.
    timezone: str = Field("Europe/London", alias="CROSSBOT_TIMEZONE")
    currency: str = Field("GBP", alias="CROSSBOT_CURRENCY")
    digest_cron: str = Field("0 9 * * mon", alias="CROSSBOT_DIGEST_CRON")
    digest_channel: str | None = Field(None, alias="CROSSBOT_DIGEST_CHANNEL")
    port: int = Field(3978, alias="CROSSBOT_PORT")
    host: str = Field("0.0.0.0", alias="CROSSBOT_HOST")
    # Bot Framework Emulator mode: /api/messages without auth, for loopback clients only.
    teams_emulator: bool = Field(False, alias="CROSSBOT_TEAMS_EMULATOR")
    # Tracebacks (never statement parameters) in the log and on a crashed command.
    debug: bool = Field(False, alias="CROSSBOT_DEBUG")
    owner_consent: bool = Field(True, alias="CROSSBOT_OWNER_CONSENT")
    # Scheduler: a run missed while the server was down still runs on start within this time.
    job_grace_hours: float = Field(6.0, alias="CROSSBOT_JOB_GRACE_HOURS", ge=0)
    daily_cron: str = Field("30 8 * * mon-fri", alias="CROSSBOT_DAILY_CRON")
    # Nudges (docs/nudges.md): the attention budget per person, and when each rule is due.
    nudge_daily_budget: int = Field(2, alias="CROSSBOT_NUDGE_DAILY_BUDGET", ge=0)
    nudge_weekly_budget: int = Field(5, alias="CROSSBOT_NUDGE_WEEKLY_BUDGET", ge=0)
    # Working days a received referral may wait to be accepted or declined.
    nudge_follow_up_days: int = Field(3, alias="CROSSBOT_NUDGE_FOLLOW_UP_DAYS", ge=1)
    # Days without a status change before "no news" nudges.
    nudge_stale_days: int = Field(14, alias="CROSSBOT_NUDGE_STALE_DAYS", ge=1)
    # Quiet hours in the firm's time zone: from this hour until that one, nothing is sent.
    nudge_quiet_from: int = Field(19, alias="CROSSBOT_NUDGE_QUIET_FROM", ge=0, le=23)
    nudge_quiet_until: int = Field(8, alias="CROSSBOT_NUDGE_QUIET_UNTIL", ge=0, le=23)
    nudge_welcome: bool = Field(True, alias="CROSSBOT_NUDGE_WELCOME")
    card_review_months: int = Field(12, alias="CROSSBOT_CARD_REVIEW_MONTHS", ge=1)
    # Dashboard: where people reach `serve` (sign-in links start with it), and the key that
    # signs its cookies (unset: derived from the Slack or Teams secret, else per process).
    public_url: str = Field("http://localhost:3978", alias="CROSSBOT_PUBLIC_URL")
    session_secret: SecretStr | None = Field(None, alias="CROSSBOT_SESSION_SECRET")
    # The durable inbox (docs/reliability.md): items in hand at once per process (0: sized
    # to the store), how long a claim holds before another process takes the item over,
    # and how often each process looks for items left unfinished.
    inbox_workers: int = Field(0, alias="CROSSBOT_INBOX_WORKERS", ge=0)
    inbox_lease_seconds: float = Field(120.0, alias="CROSSBOT_INBOX_LEASE_SECONDS", gt=0)
    inbox_poll_seconds: float = Field(2.0, alias="CROSSBOT_INBOX_POLL_SECONDS", gt=0)
    # Turns in this many worker processes beside the receiver (docs/deployment.md); 0: in
    # threads of the serving process; None ("auto"): `crossbot serve` picks for the host.
    turn_processes: int | None = Field(None, alias="CROSSBOT_TURN_PROCESSES", ge=0, le=64)
    # How often (ms) a thread holding the interpreter lets another in (Python's default 5):
    # each step of an acknowledgement may wait this long for a turn thread (performance.md).
    switch_interval_ms: float = Field(1.0, alias="CROSSBOT_SWITCH_INTERVAL_MS", gt=0, le=100)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, alias="CROSSBOT_SLACK_API_URL")
    # OAuth mode (several workspaces, Enterprise Grid): on when both are set (docs/slack.md).
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_token_rotation_minutes: int = Field(
        120, alias="CROSSBOT_SLACK_TOKEN_ROTATION_MINUTES", ge=1
    )

    microsoft_app_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID")
    )
    microsoft_app_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"),
    )
    # Microsoft creates only single-tenant bots now; MultiTenant still works for older ones.
    microsoft_app_type: str = Field(
        "SingleTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    microsoft_app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID")
    )
    # Comma-separated Entra tenant ids whose activities are answered (empty: the app's own
    # tenant for a single-tenant bot, any tenant for a multi-tenant one).
    teams_tenants: str = Field("", alias="CROSSBOT_TEAMS_TENANTS")

    @property
    def teams_tenant_ids(self) -> frozenset[str] | None:
        """The tenants Teams activities may come from; None when any tenant may."""
        listed = {t.strip().lower() for t in self.teams_tenants.split(",") if t.strip()}
        if listed:
            return frozenset(listed)
        own = self.microsoft_app_tenant_id.strip().lower()
        single = self.microsoft_app_type.strip().lower() == "singletenant"
        return frozenset({own}) if own and single and self.microsoft_app_id.strip() else None

    @property
    def teams_enabled(self) -> bool:
        """Whether `/api/messages` exists: an app id is set, or emulator mode is on."""
        return bool(self.microsoft_app_id.strip()) or self.teams_emulator

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def inbox_lease(self) -> timedelta:
        return timedelta(seconds=self.inbox_lease_seconds)

    @field_validator("turn_processes", mode="before")
    @classmethod
    def _auto(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "auto") else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/London")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not is_currency(value.strip().upper()):
            raise ValueError(f"unknown currency {value!r}: use an ISO 4217 code such as GBP")
        return value.strip().upper()

    @model_validator(mode="after")
    def _firm_defaults(self) -> Settings:
        """Time zone and currency not set in the environment come from the firm's firm.yaml."""
        unset = {"timezone", "currency"} - self.model_fields_set
        if unset and self.content_dir.is_dir():
            firm, problems = read_firm(self.content_dir)
            if not any(p.level == "error" for p in problems):
                for name in unset:
                    object.__setattr__(self, name, getattr(firm, name))
        return self

    def apply(self, firm: Firm) -> Firm:
        """The firm as it applies here: CROSSBOT_CURRENCY / CROSSBOT_TIMEZONE win over the file."""
        currency = self.currency if "currency" in self.model_fields_set else firm.currency
        timezone = self.timezone if "timezone" in self.model_fields_set else firm.timezone
        return Firm(name=firm.name, currency=currency, timezone=timezone)


def _user_cache() -> Path:
    """`$XDG_CACHE_HOME/crossbot`, else `~/.cache/crossbot`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "crossbot"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
