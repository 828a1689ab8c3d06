"""The `crossbot` command line (also `python -m bot`)."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
import yaml
from pydantic import ValidationError

from bot.catalog import Catalog, Problem, has_errors, load_into, read_folder
from bot.firm import Firm
from bot.money import firm_currency, use_firm_currency
from bot.render import render
from bot.settings import Settings, get_settings

# Only what `ask` and `--help` need is imported here; each command imports the rest when
# it runs: the store (SQLAlchemy, SQLModel, the models: a second of start-up), the router
# and its dialogs, the digest, the server, matplotlib. A question answered from a content
# snapshot (`_ask_index`) never opens the store.
if TYPE_CHECKING:
    from bot.context import Context
    from bot.dialogs import whodoes
    from bot.messages import Messenger
    from bot.search import SearchIndex
    from bot.store import Store, models
    from bot.understand import Directory, ReferralDraft


T = TypeVar("T")


def _commands(help_text: str) -> typer.Typer:
    """A command group with plain help and usage errors: Typer's rich rendering imports rich
    and markdown-it, more than a second of `crossbot --help` or of a mistyped option."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


app = _commands("Crossbot: who does what, referrals and cross-selling weeks, in Slack and Teams.")
cards_app = _commands("Service cards.")
db_app = _commands("The database.")
person_app = _commands("Data-protection requests about one person.")
dashboard_app = _commands("The business-development dashboard.")
app.add_typer(cards_app, name="cards")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(db_app, name="db")
app.add_typer(person_app, name="person")

ContentOption = Annotated[
    Path | None,
    typer.Option("--content", help="Read this content folder directly instead of the database."),
]


def main() -> None:
    """Entry point of the console script: no traceback reaches the user unless asked for.

    `CROSSBOT_DEBUG=1` turns on Crossbot's own DEBUG log (tracebacks included) for the
    command or the server; other libraries stay at WARNING, so no request body, token or
    statement parameter is logged.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    debug = _debug_requested()
    if debug:
        for name in ("bot", "crossbot"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        app()
    except (KeyboardInterrupt, BrokenPipeError):
        raise SystemExit(130) from None
    except Exception:
        logging.getLogger("crossbot").debug("command failed", exc_info=True)
        typer.echo(render("cli_crashed", debug=debug), err=True)
        raise SystemExit(1) from None


def _debug_requested() -> bool:
    try:
        return get_settings().debug
    except Exception:  # settings that do not parse are reported by the command itself
        return False


# -- helpers -----------------------------------------------------------------------------


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:  # "CROSSBOT_CURRENCY=EURO": name it, no traceback
        problems = [
            {
                "setting": ".".join(str(p) for p in e["loc"]) or "settings",
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in error.errors()
        ]
        _fail(render("cli_settings_error", problems=problems))


def _store(settings: Settings | None = None) -> Store:
    from bot.store import Store

    settings = settings or _settings()
    try:
        return Store(settings.database_url)
    except Exception as exc:  # an unreachable server or a bad URL: say so, no traceback
        _fail(render("cli_database_error", url=_safe_url(settings.database_url), error=str(exc)))
        raise  # unreachable: _fail exits


def _context() -> Context:
    """A context over the configured database (exits kindly if it cannot be opened).

    Amounts are shown in the currency of the firm the database holds (`Context.firm`).
    """
    from bot.context import Context

    settings = _settings()
    ctx = Context(_store(settings), settings)
    use_firm_currency(ctx.firm().currency)
    return ctx


def _safe_url(url: str) -> str:
    """The database URL without its password, fit for an error message."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _lines(prompt: str) -> Iterator[str]:
    """Lines from a person at a terminal (with a prompt), or from a pipe."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            return


def _chat(ctx: Context, email: str) -> None:
    from sqlmodel import select

    from bot.channels.console import ConsoleChannel, run
    from bot.people import by_email
    from bot.store import models

    with ctx.store.read() as session:
        person = by_email(session, email)
        names = {p.email: p.name for p in session.exec(select(models.Person))}
    if person is None:
        _fail(render("cli_unknown_person", email=email), code=2)
    channel = ConsoleChannel(ctx, person.email)
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(render("cli_chat_banner", name=person.name, team=person.team))
    run(channel, _lines("you › "), names=names)


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=problem.level == "error")


# -- commands ----------------------------------------------------------------------------


@cards_app.command("check")
def cards_check(
    folder: Annotated[
        Path | None, typer.Argument(help="Content folder (default: configured).")
    ] = None,
) -> None:
    """List every problem in a content folder; exit 1 if there is any error."""
    folder = folder or _settings().content_dir
    _, problems = read_folder(folder)
    _print_problems(problems)
    errors = sum(p.level == "error" for p in problems)
    typer.echo(
        render(
            "cli_check_summary", folder=str(folder), errors=errors, warnings=len(problems) - errors
        )
    )
    raise typer.Exit(1 if errors else 0)


@cards_app.command("aliases")
def cards_aliases(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per card.")] = False,
) -> None:
    """Aliases learned from people's questions, per card, ready for its card file."""
    from bot import learning

    ctx = _context()
    with ctx.store.read() as session:
        learned = learning.learned_aliases(session)
    rows = learning.aliases_export(ctx.catalog(), learned)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        typer.echo(render("cli_aliases_none"))
        return
    for row in rows:
        line = yaml.safe_dump(
            {"aliases": row["aliases"]}, default_flow_style=None, allow_unicode=True, width=10_000
        ).strip()
        typer.echo(render("cli_aliases_card", row=row, line=line))


@app.command()
def ask(
    question: Annotated[
        str | None, typer.Argument(help="The question; omit it to read one per line from stdin.")
    ] = None,
    content: ContentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per answer.")] = False,
) -> None:
    """Answer "who does X?" from the service cards."""
    from bot.dialogs import whodoes

    catalog, index, keep = _ask_index(content)
    last: list[str] | None = None
    questions = [question] if question is not None else (line.strip() for line in _lines("? "))
    for text in questions:
        if not text.strip():
            continue
        response = whodoes.respond(text, index, catalog, last)
        last = response.cards or last
        typer.echo(json.dumps(_ask_json(text, response)) if as_json else response.text)
        if not as_json and question is None:
            typer.echo()
    keep()


def _ask_index(content: Path | None) -> tuple[Catalog, SearchIndex, Callable[[], None]]:
    """The firm to search, its index, and `keep`, to call once the questions are answered.

    Both come from the snapshot of the same content if one was saved (`bot/snapshot.py`),
    else are read and built. `keep` saves the snapshot when there was none, or when the
    answers looked up word frequencies it didn't hold (wordfreq: half a second to load).
    """
    from bot import search, snapshot
    from bot.dialogs import whodoes

    settings = _settings()
    source, built_from = _ask_source(content, settings)
    path = snapshot.path_for(settings.cache_dir, source)
    wanted = snapshot.key(*built_from) if built_from is not None else None
    saved = snapshot.load(path, wanted) if wanted is not None else None
    if saved is not None:
        catalog, index, currency, frequencies = saved
        use_firm_currency(currency)
        search.add_known_zipf(frequencies)
    else:
        catalog, folder = _ask_catalog(content)
        index = whodoes.build_index(catalog, folder)
        frequencies = {}

    def keep() -> None:
        known = search.known_zipf()
        if wanted is not None and (saved is None or len(known) > len(frequencies)):
            snapshot.save(path, wanted, (catalog, index, firm_currency(), known))

    return catalog, index, keep


def _ask_source(content: Path | None, settings: Settings) -> tuple[str, tuple[object, ...] | None]:
    """Which content a question reads, and everything its index is built from; None for the
    latter when only opening the store would tell (PostgreSQL, a migration due)."""
    from bot.snapshot import folder_stamp
    from bot.store.probe import content_version

    shaping = (settings.currency, settings.timezone)
    if content is not None:
        folder = content.resolve()
        return f"folder:{folder}", (folder_stamp(folder), shaping)
    version = content_version(settings.database_url)
    if version is None:
        return f"database:{settings.database_url}", None
    vocabulary = settings.content_dir.resolve()  # its glossary and areas shape the index
    built_from = (version, str(vocabulary), folder_stamp(vocabulary), shaping)
    return f"database:{version[0]}", built_from  # the file, wherever the URL is relative to


def _ask_catalog(content: Path | None) -> tuple[Catalog, Path | None]:
    """The firm to search: a content folder read directly, else the configured database (or,
    while the database holds no cards yet, the configured content folder)."""
    if content is None:
        ctx = _context()
        catalog = ctx.catalog()
        if catalog.cards:
            return catalog, ctx.settings.content_dir
        content = ctx.settings.content_dir
    catalog, problems = read_folder(content)
    if has_errors(problems):
        errors = [str(p) for p in problems if p.level == "error"]
        _fail(render("cli_ask_bad_content", folder=str(content), problems=errors), code=2)
    if not catalog.cards:
        _fail(render("cli_ask_no_content"), code=2)
    return catalog, content


def _ask_json(question: str, response: whodoes.Response) -> dict[str, object]:
    """The `--json` contract of `crossbot ask` (DESIGN.md)."""
    return {
        "question": question,
        "matches": [
            {
                "card": m.card.id,
                "title": m.card.title,
                "team": m.card.team,
                "score": m.score,
                "owners": [
                    {"name": p.name, "email": p.email} for p in response.owners.get(m.card.id, [])
                ],
            }
            for m in response.matches
        ],
        "answer": response.text,
    }


@app.command()
def load(
    folder: Annotated[
        Path | None, typer.Argument(help="Content folder (default: configured).")
    ] = None,
) -> None:
    """Validate a content folder and load it into the database: all or nothing."""
    folder = folder or _settings().content_dir
    catalog, problems = read_folder(folder)
    if has_errors(problems):
        _print_problems([p for p in problems if p.level == "error"])
        _fail(
            render(
                "cli_load_refused",
                folder=str(folder),
                errors=sum(p.level == "error" for p in problems),
            )
        )
    store = _store()

    def progress(kind: str, done: int, total: int) -> None:
        if total >= 500:
            typer.echo(render("cli_load_progress", kind=kind, done=done, total=total), err=True)

    with store.write() as session:
        summary = load_into(session, catalog, progress)
    warnings = [p for p in problems if p.level == "warning"]
    typer.echo(
        render(
            "cli_load_summary",
            folder=str(folder),
            summary=summary,
            cards=len(catalog.cards),
            people=len(catalog.people),
            clients=len(catalog.clients),
            warnings=len(warnings),
        )
    )


@app.command()
def chat(
    as_: Annotated[str | None, typer.Option("--as", help="Chat as this person (email).")] = None,
) -> None:
    """Chat with the bot in the terminal, over the configured database."""
    ctx = _context()
    email = as_ or _default_person(ctx)
    _chat(ctx, email)


@app.command()
def demo(
    as_: Annotated[str | None, typer.Option("--as", help="Chat as this person (email).")] = None,
    database: Annotated[
        Path, typer.Option("--database", help="The demo's own SQLite file (recreated).")
    ] = Path("crossbot-demo.db"),
    serve_it: Annotated[
        bool,
        typer.Option(
            "--serve", help="Serve the dashboard on the demo database instead of chatting."
        ),
    ] = False,
    port: Annotated[int | None, typer.Option(help="HTTP port for --serve.")] = None,
) -> None:
    """Load the sample firm into a fresh local database, seed some activity, and chat
    (with --serve: run the server and print a dashboard sign-in link for the demo admin)."""
    from bot.context import Context
    from bot.seed import seed_demo
    from bot.store import Store

    folder = sample_content_dir()
    catalog, problems = read_folder(folder)
    if has_errors(problems):
        _print_problems(problems)
        _fail(render("cli_load_refused", folder=str(folder), errors=len(problems)))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = _settings()
    ctx = Context(Store(f"sqlite:///{database}"), settings)
    with ctx.store.write() as session:
        load_into(session, catalog)
        seed_demo(session, catalog, ctx.now(), settings)
    if serve_it:
        _serve_demo(ctx, as_, port)
        return
    email = as_ or _default_person(ctx)
    if sys.stdin.isatty():
        typer.echo(
            render(
                "cli_demo_banner",
                database=str(database),
                cards=len(catalog.cards),
                people=len(catalog.people),
            )
        )
    _chat(ctx, email)


def _serve_demo(ctx: Context, email: str | None, port: int | None) -> None:
    """The server on the demo database, with a sign-in link for the demo admin."""
    from sqlmodel import select

    from bot.server import serve as run_server
    from bot.store import models

    with ctx.store.read() as session:
        people = list(session.exec(select(models.Person).where(models.Person.active)))
    admin = next((p for p in people if p.email == email), None) if email else None
    admin = admin or min((p for p in people if p.is_admin), key=lambda p: p.id or 0, default=None)
    if admin is None:
        _fail(render("cli_no_people"), code=2)
    chosen_port = port or ctx.settings.port
    if port and ctx.settings.public_url == Settings.model_fields["public_url"].default:
        ctx.settings.public_url = f"http://localhost:{port}"
    _print_link(ctx, admin)
    typer.echo(
        render(
            "cli_serving",
            host=ctx.settings.host,
            port=chosen_port,
            socket_mode=False,
            teams=ctx.settings.teams_enabled,
        ),
        err=True,
    )
    run_server(ctx, chosen_port)


def _print_link(ctx: Context, person: models.Person) -> None:
    from bot.dashboard import issue_link
    from bot.dashboard._auth import LINK_LIFETIME

    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    url = issue_link(ctx, person)
    typer.echo(
        render("cli_dashboard_link", name=person.name, email=person.email, url=url, minutes=minutes)
    )


@dashboard_app.command("link")
def dashboard_link(
    as_: Annotated[str, typer.Option("--as", help="The admin to sign in (email).")],
) -> None:
    """Print a one-time dashboard sign-in link for an admin (valid 10 minutes)."""
    ctx = _context()
    person = ctx.person(as_)
    if person is None or not person.active:
        _fail(render("cli_unknown_person", email=as_), code=2)
    if not person.is_admin:
        _fail(render("cli_dashboard_not_admin", email=person.email), code=2)
    _print_link(ctx, person)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically at start)."""
    from bot.store import current_revision

    store = _store()
    typer.echo(
        render("cli_db_upgraded", revision=current_revision(store.engine), url=_safe_url(store.url))
    )


def _default_person(ctx: Context) -> str:
    """Who the terminal speaks as when `--as` is not given: an ambassador, or anyone."""
    from sqlmodel import select

    from bot.store import models

    with ctx.store.read() as session:
        people = list(session.exec(select(models.Person).where(models.Person.active)))
    if not people:
        _fail(render("cli_no_people"), code=2)
    people.sort(key=lambda p: (p.role != "ambassador", p.id or 0))
    return people[0].email


def sample_content_dir() -> Path:
    """The sample firm shipped in the repo's `content/` folder."""
    repo_content = Path(__file__).resolve().parent.parent / "content"
    return repo_content if repo_content.is_dir() else _settings().content_dir


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="HTTP port (default CROSSBOT_PORT).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default CROSSBOT_HOST, 0.0.0.0).")
    ] = None,
) -> None:
    """Run the Slack + Teams server and the scheduler."""
    from bot.server import serve as run_server

    ctx = _context()
    typer.echo(
        render(
            "cli_serving",
            host=host or ctx.settings.host,
            port=port or ctx.settings.port,
            socket_mode=ctx.settings.slack_app_token is not None,
            teams=ctx.settings.teams_enabled,
        ),
        err=True,
    )
    run_server(ctx, port, host)


@app.command()
def report(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the CSV files and PNG charts.")
    ] = Path("report"),
) -> None:
    """Referral funnel, value won, team give/receive matrix, campaign standings: CSV and PNG."""
    from bot.report import write_report

    ctx = _context()
    with ctx.store.read() as session:
        written = write_report(session, out, ctx.now(), ctx.settings.zone)
    typer.echo(
        render(
            "cli_report_written",
            folder=str(out),
            files=[p.name for p in written.files],
            referrals=written.referrals,
            campaigns=written.campaigns,
        )
    )


@app.command("parse-referral")
def parse_referral_command(
    text: Annotated[
        str | None, typer.Argument(help="The message; without it, one message per stdin line.")
    ] = None,
    content: ContentOption = None,
    as_: Annotated[
        str | None, typer.Option("--as", help="Who is speaking (email from people.csv).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message.")] = False,
) -> None:
    """Parse a referral message: client, receiver, service card, value and what is missing.

    In stdin mode each line is plain text (spoken as --as) or a JSON object
    {"text": ..., "as": ...}; the output has one line per input line, in order.
    """
    from bot.understand import parse_referral

    directory = _directory(content)
    if as_ is not None and directory.person(as_) is None:
        _fail(render("cli_unknown_person", email=as_), code=2)
    if text is not None:
        if as_ is None:
            _fail(render("cli_referral_needs_speaker"), code=2)
        _show_referral(parse_referral(text, as_, directory), directory, as_json)
        return
    failed = False
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        message, speaker, problem = _referral_line(line, as_, directory)
        if problem is not None:
            failed = True
            problem = render("cli_referral_bad_line", line=number, problem=problem)
            if as_json:
                typer.echo(json.dumps({"error": problem}, ensure_ascii=False))
            else:
                typer.echo(problem, err=True)
            continue
        _show_referral(parse_referral(message, speaker, directory), directory, as_json)
    if failed:
        raise typer.Exit(2)


def _directory(content: Path | None) -> Directory:
    """People, clients and cards from a content folder (the configured one by default)."""
    from bot.understand import Directory

    folder = content or _settings().content_dir
    catalog, problems = read_folder(folder)
    if has_errors(problems):
        _print_problems([p for p in problems if p.level == "error"])
        errors = sum(p.level == "error" for p in problems)
        _fail(render("cli_content_unreadable", folder=str(folder), errors=errors), code=2)
    firm = _settings().apply(catalog.firm or Firm())
    use_firm_currency(firm.currency)
    return Directory.from_catalog(catalog, firm.currency)


def _referral_line(
    line: str, default_speaker: str | None, directory: Directory
) -> tuple[str, str, str | None]:
    """(text, speaker, problem) for one stdin line: plain text or {"text": ..., "as": ...}."""
    message, speaker = line.strip(), default_speaker
    if message.startswith("{"):
        try:
            data = json.loads(message)
        except json.JSONDecodeError:
            return "", "", "not valid JSON"
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return "", "", 'a JSON line needs a "text" string'
        message, speaker = data["text"], data.get("as") or default_speaker
    if not speaker:
        return "", "", 'nobody is speaking: add "as" to the line or --as to the command'
    if directory.person(str(speaker)) is None:
        return "", "", f"nobody with the email {speaker} is in people.csv"
    return message, str(speaker), None


def _show_referral(draft: ReferralDraft, directory: Directory, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(draft.as_json(), ensure_ascii=False))
        return
    typer.echo(
        render(
            "cli_referral_parsed",
            draft=draft,
            receiver=directory.person(draft.receiver) if draft.receiver else None,
            candidates=[p for e in draft.receiver_candidates if (p := directory.person(e))],
            card=directory.card(draft.card) if draft.card else None,
        )
    )


def _messenger(ctx: Context) -> Messenger:
    from bot.channels import NoMessenger, messenger_from_settings

    try:
        return messenger_from_settings(ctx)
    except NoMessenger as exc:
        _fail(str(exc))


def _send(ctx: Context, send: Callable[[Messenger], Coroutine[Any, Any, T]]) -> T:
    """Run `send` with the configured platform's messenger, to post from the command line."""
    messenger = _messenger(ctx)
    import asyncio  # only the commands that post need it (0.2 s at every start)

    return asyncio.run(send(messenger))


@app.command()
def digest(
    preview: Annotated[
        bool, typer.Option("--preview", help="Print the digest and write the chart; post nothing.")
    ] = False,
    chart: Annotated[
        Path, typer.Option("--chart", help="Where --preview writes the chart PNG.")
    ] = Path("crossbot-digest-chart.png"),
    personal: Annotated[
        bool, typer.Option("--personal/--no-personal", help="Also DM the personal digests.")
    ] = True,
) -> None:
    """Build the weekly digest; with --preview print it, otherwise post it now."""
    from bot import digest as digest_module
    from bot import jobs

    ctx = _context()
    now = ctx.now()
    if preview:
        built, png = jobs.build(ctx, now)
        typer.echo(digest_module.digest_text(built))
        if png is not None:
            chart.parent.mkdir(parents=True, exist_ok=True)
            chart.write_bytes(png)
        typer.echo()
        path = str(chart.resolve()) if png is not None else None
        typer.echo(render("cli_digest_chart", path=path, weeks=digest_module.CHART_WEEKS))
        return
    if not ctx.settings.digest_channel:
        _fail(render("cli_digest_no_channel"))

    async def post(messenger: Messenger) -> tuple[dict[str, object], dict[str, object] | None]:
        result = await jobs.post_digest(ctx, messenger, now)
        sent = await jobs.send_personal_digests(ctx, messenger, now) if personal else None
        return result, sent

    result, sent = _send(ctx, post)
    typer.echo(
        render(
            "cli_digest_posted", result=result, channel=ctx.settings.digest_channel, personal=sent
        )
    )


@app.command()
def nudges(
    preview: Annotated[
        bool, typer.Option("--preview", help="List who would be nudged and why; send nothing.")
    ] = False,
) -> None:
    """Who would be nudged today and why; without --preview, send the nudges now."""
    from bot import jobs
    from bot import nudges as nudges_module

    ctx = _context()
    now = ctx.now()
    if preview:
        with ctx.store.read() as session:
            planned = nudges_module.plan(
                session, now, nudges_module.Policy.from_settings(ctx.settings)
            )
        typer.echo(render("nudges_preview", plan=planned))
        return
    result = _send(ctx, lambda messenger: jobs.send_nudges(ctx, messenger, now))
    typer.echo(render("nudges_sent", **result))


@app.command("teams-package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "crossbot-teams.zip"
    ),
    placeholder_id: Annotated[
        bool,
        typer.Option("--placeholder-id", help="Build without MicrosoftAppId, for inspection only."),
    ] = False,
    website: Annotated[
        str, typer.Option(help="Your https:// website (privacy and terms pages below it).")
    ] = "https://github.com/crossbot",
) -> None:
    """Build the Teams app package (manifest + icons), validated before it is written."""
    from bot.channels import teams_package as package

    bot_id = _settings().microsoft_app_id.strip()
    if not bot_id and not placeholder_id:
        _fail(render("cli_teams_package_no_app_id"), code=2)
    try:
        path = package.write(
            out, bot_id or package.PLACEHOLDER_ID, package.Developer(website=website)
        )
    except package.PackageError as exc:
        _fail(render("cli_teams_package_invalid", problems=str(exc).split("; ")))
    typer.echo(
        render(
            "cli_teams_package_written",
            path=str(path),
            manifest_version=package.MANIFEST_VERSION,
            bot_id=bot_id or package.PLACEHOLDER_ID,
            placeholder=not bot_id,
        )
    )


@person_app.command("export")
def person_export(email: Annotated[str, typer.Argument(help="The person's email.")]) -> None:
    """Print everything held about a person, as JSON."""
    from bot.privacy import export_person

    with _store().read() as session:
        data = export_person(session, email)
    if data is None:
        _fail(render("cli_unknown_person", email=email), code=2)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@person_app.command("forget")
def person_forget(
    email: Annotated[str, typer.Argument(help="The person's email.")],
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask for confirmation.")] = False,
) -> None:
    """Anonymise a person: their records stay, nothing in them names the person."""
    from bot.privacy import forget_person

    # Irreversible: ask every time unless --yes; a pipe that says "n" or nothing is a no.
    if not yes:
        try:
            agreed = typer.confirm(render("cli_forget_confirm", email=email), default=False)
        except typer.Abort:
            agreed = False
        if not agreed:
            typer.echo(render("cli_forget_cancelled", email=email))
            raise typer.Exit(1)
    with _store().write() as session:
        forgotten = forget_person(session, email)
    if forgotten is None:
        _fail(render("cli_unknown_person", email=email), code=2)
    typer.echo(
        render(
            "cli_forgotten",
            email=email,
            name=forgotten.name,
            changed=forgotten.changed,
            removed=forgotten.removed,
        )
    )
