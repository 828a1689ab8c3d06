"""OAuth mode: installs into several workspaces, each answered with its own bot token.

The install goes through our real `/slack/install` and `/slack/oauth_redirect` against
the fake Web API's `oauth.v2.access`; events are signed as Slack signs them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData
from sqlmodel import SQLModel

from bot.channels import slack as slack_channel
from bot.channels.slack_oauth import oauth_enabled
from bot.context import Context
from bot.messages import Reply, Unreachable
from bot.settings import Settings
from bot.store import slack_tables
from tests.conftest import REPO
from tests.slack.conftest import PRIYA, SECRET, FakePacer, SlackDriver, section_texts
from tests.slack.fake_slack import FakeSlack

T1, T1_TOKEN = "T0001", "xoxb-workspace-one"
T2, T2_TOKEN = "T0002", "xoxb-workspace-two"
PRIYA_IN_T2 = "U2PRIYA"  # the same person, another workspace, another id


@pytest.fixture
def oauth_settings(fake: FakeSlack) -> Settings:
    fake.installs = {"code-one": (T1, T1_TOKEN), "code-two": (T2, T2_TOKEN)}
    fake.users[PRIYA_IN_T2] = PRIYA
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="client-secret",
        CROSSBOT_SLACK_API_URL=fake.api_url,
        CROSSBOT_PUBLIC_URL="https://crossbot.example.com",
    )


@pytest.fixture
async def oauth(
    ctx: Context, oauth_settings: Settings, fake: FakeSlack
) -> AsyncIterator[SlackDriver]:
    slack_ctx = Context(ctx.store, oauth_settings)
    app = web.Application()
    channel = slack_channel.SlackChannel(slack_ctx, pacer=FakePacer())
    assert slack_channel.mount(app, slack_ctx, channel) is channel
    client = TestClient(TestServer(app))
    await client.start_server()
    yield SlackDriver(client, channel, fake)
    await client.close()


async def install(slack: SlackDriver, code: str) -> int:
    """Add to Slack: our install URL, Slack's consent (skipped), then our redirect URL."""
    start = await slack.client.get("/slack/install", allow_redirects=False)
    assert start.status == 302
    authorize = urlparse(start.headers["Location"])
    assert authorize.netloc == "slack.com"
    query = parse_qs(authorize.query)
    assert query["redirect_uri"] == ["https://crossbot.example.com/slack/oauth_redirect"]
    state = query["state"][0]
    cookie = start.cookies["slack-app-oauth-state"].value
    done = await slack.client.get(
        f"/slack/oauth_redirect?code={code}&state={state}",
        headers={"Cookie": f"slack-app-oauth-state={cookie}"},
    )
    return done.status


def test_oauth_mode_needs_both_the_client_id_and_secret(oauth_settings: Settings) -> None:
    assert oauth_enabled(oauth_settings)
    assert not oauth_enabled(Settings(_env_file=None, SLACK_CLIENT_ID="1.2"))  # type: ignore[call-arg]
    assert slack_channel.config_problem(oauth_settings) == ""


async def test_a_second_workspace_is_answered_with_its_own_token(oauth: SlackDriver) -> None:
    assert await install(oauth, "code-one") == 200
    assert await install(oauth, "code-two") == 200
    fake = oauth.fake
    assert [p["code"] for p in fake.of("oauth.v2.access")] == ["code-one", "code-two"]

    assert (await oauth.dm("who does employment law?", PRIYA_IN_T2, T2))[0] == 200
    assert (await oauth.dm("who does employment law?", "U04PSH7K2QX", T1))[0] == 200

    posts = [c for c in fake.calls if c.method == "chat.postMessage" and c.ok]
    assert [(c.params["channel"], c.token) for c in posts] == [
        ("D2PRIYA", T2_TOKEN),
        ("D04PSH7K2QX", T1_TOKEN),
    ]
    assert "Employment" in " ".join(section_texts(posts[0].params))
    # Priya was found by email in T2; her T1 id on record was not overwritten.
    assert set(fake.tokens("users.info")) <= {T1_TOKEN, T2_TOKEN}
    with oauth.channel.ctx.store.read() as session:
        from bot.people import by_email

        person = by_email(session, PRIYA)
        assert person is not None and person.slack_id == "U04PSH7K2QX"


async def test_a_workspace_that_never_installed_is_not_answered(oauth: SlackDriver) -> None:
    assert await install(oauth, "code-one") == 200

    await oauth.dm("hello", "U404", "T0404")

    assert not oauth.fake.of("chat.postMessage")


async def test_a_forged_or_replayed_state_installs_nothing(oauth: SlackDriver) -> None:
    done = await oauth.client.get("/slack/oauth_redirect?code=code-two&state=made-up")

    assert done.status >= 400
    assert not oauth.fake.of("oauth.v2.access")


def test_our_install_tables_are_slack_sdks() -> None:
    """The tables Crossbot migrates are exactly those slack_sdk's stores read and write."""
    theirs = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(theirs, slack_tables.INSTALLATIONS)
    SQLAlchemyInstallationStore.build_bots_table(theirs, slack_tables.BOTS)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, slack_tables.OAUTH_STATES)
    for name, table in theirs.tables.items():
        ours = SQLModel.metadata.tables[name]
        assert [(c.name, str(c.type), c.nullable) for c in ours.columns] == [
            (c.name, str(c.type), c.nullable) for c in table.columns
        ]
        assert {tuple(c.name for c in i.columns) for i in ours.indexes} == {
            tuple(c.name for c in i.columns) for i in table.indexes
        }


def test_the_oauth_manifest_is_the_manifest_plus_install_settings() -> None:
    one = json.loads((REPO / "manifest.json").read_text())
    many = json.loads((REPO / "manifest-oauth.json").read_text())

    assert many["oauth_config"].pop("redirect_urls") == [
        "https://crossbot.example.com/slack/oauth_redirect"
    ]
    assert many["settings"].pop("org_deploy_enabled") is True
    assert many["settings"].pop("token_rotation_enabled") is True
    del one["settings"]["org_deploy_enabled"], one["settings"]["token_rotation_enabled"]
    assert many == one


async def test_scheduled_work_reaches_people_through_an_installed_workspace(
    oauth: SlackDriver,
) -> None:
    assert await install(oauth, "code-one") == 200
    messenger = oauth.channel.messenger  # outside a request: every installed workspace

    await messenger.dm(PRIYA, Reply("Your weekly digest"))

    [post] = [c for c in oauth.fake.calls if c.method == "chat.postMessage" and c.ok]
    assert post.token == T1_TOKEN
    with pytest.raises(Unreachable):
        await messenger.dm("nobody@elsewhere.example", Reply("x"))
