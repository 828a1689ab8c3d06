"""Reading a firm's content folder: service cards, people and clients.

`read_folder` parses everything it can and returns every problem it met, each with
file and line, so `crossbot cards check` can list them all at once. `load_into` writes a
valid folder into the database in one transaction; `from_store` reads it back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import frontmatter
import yaml

from bot.firm import Firm, read_firm
from bot.inbound import clean_text

# The database half of this module (`load_into`, `from_store`, `new_clients`) imports
# SQLModel and the store's models when it runs: reading a folder, or a question answered
# from a content snapshot, never needs them (about a second of start-up).
if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.store import models

SECTIONS: dict[str, str] = {
    "what we do": "what_we_do",
    "how to position us": "positioning",
    "clients we want": "clients_we_want",
    "situations to look out for": "situations",
    "questions to ask": "questions",
}
SECTION_HEADINGS: dict[str, str] = {key: heading for heading, key in SECTIONS.items()}
LIST_SECTIONS = ("clients_we_want", "situations", "questions")
ROLES = ("member", "ambassador", "admin")
STALE_AFTER = timedelta(days=365)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Card:
    """A one-page service card."""

    id: str
    title: str
    team: str
    owners: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    updated: date | None = None
    sections: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    path: str = ""

    def section(self, key: str) -> str:
        return self.sections.get(key, "")

    def bullets(self, key: str) -> list[str]:
        """The bullet points of a list section (or its lines, if written as prose)."""
        lines = [line.strip() for line in self.section(key).splitlines() if line.strip()]
        return [re.sub(r"^[-*+]\s+|^\d+[.)]\s+", "", line) for line in lines]

    @property
    def main_contact(self) -> str | None:
        return self.owners[0] if self.owners else None


@dataclass(frozen=True)
class PersonRecord:
    email: str
    name: str
    team: str
    office: str = ""
    title: str = ""
    role: str = "member"
    slack_id: str = ""
    teams_id: str = ""

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""


@dataclass(frozen=True)
class ClientRecord:
    name: str
    aliases: tuple[str, ...] = ()
    sector: str = ""
    owner: str = ""
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.level}: {self.message}"


@dataclass
class Catalog:
    """Everything a content folder holds, parsed."""

    cards: list[Card] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    clients: list[ClientRecord] = field(default_factory=list)
    folder: Path | None = None
    firm: Firm | None = None  # None: read from a database no firm.yaml was loaded into

    def person(self, email: str) -> PersonRecord | None:
        return self._people_by_email.get(email.strip().lower())

    def card(self, card_id: str) -> Card | None:
        return next((card for card in self.cards if card.id == card_id), None)

    def teams(self) -> list[str]:
        return sorted({p.team for p in self.people} | {c.team for c in self.cards})

    @cached_property
    def _people_by_email(self) -> dict[str, PersonRecord]:
        """Built once per catalog (a turn looks up several people among thousands)."""
        return {p.email: p for p in self.people}


class ContentError(Exception):
    """A content folder that cannot be used; `problems` says why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.level == "error"]
        super().__init__(f"{len(errors)} error(s) in the content folder")


def read_folder(folder: Path | str, today: date | None = None) -> tuple[Catalog, list[Problem]]:
    """Parse a content folder; return what could be read and every problem found."""
    root = Path(folder)
    today = today or date.today()
    problems: list[Problem] = []
    if not root.is_dir():
        return Catalog(folder=root), [Problem("error", str(root), 0, "not a folder")]
    before = len(problems)
    people = _read_people(root / "people.csv", problems)
    # A people.csv that cannot be read at all is one error, not one more per card owner.
    unreadable = not people and any(p.line <= 1 for p in problems[before:] if p.level == "error")
    emails = None if unreadable else {p.email for p in people}
    cards = _read_cards(root / "cards", emails, today, problems)
    # A card that failed to parse is reported once, not again by every client naming it.
    card_ids = {c.id for c in cards} | {p.stem for p in (root / "cards").glob("*.md")}
    clients = _read_clients(root / "clients.csv", emails, card_ids, problems)
    teams_with_people = {p.team.casefold() for p in people}
    for card in [] if unreadable else cards:
        if card.team.casefold() not in teams_with_people:
            problems.append(
                Problem(
                    "warning",
                    card.path,
                    _line_of(card.path, "team"),
                    f"team '{card.team}' has nobody in people.csv",
                )
            )
    firm = _read_firm(root, problems)
    catalog = Catalog(cards=cards, people=people, clients=clients, folder=root, firm=firm)
    return catalog, problems


def _read_firm(root: Path, problems: list[Problem]) -> Firm:
    """firm.yaml: the firm's name, currency and time zone (see `bot.firm`)."""
    firm, found = read_firm(root)
    problems.extend(Problem(p.level, "firm.yaml", p.line, p.message) for p in found)  # type: ignore[arg-type]
    return firm


def load_catalog(folder: Path | str, today: date | None = None) -> Catalog:
    """Parse a content folder, raising `ContentError` if it has any error."""
    catalog, problems = read_folder(folder, today)
    if any(p.level == "error" for p in problems):
        raise ContentError(problems)
    return catalog


def has_errors(problems: list[Problem]) -> bool:
    return any(p.level == "error" for p in problems)


# -- cards -------------------------------------------------------------------------------


def _read_cards(
    folder: Path, emails: set[str] | None, today: date, problems: list[Problem]
) -> list[Card]:
    if folder.exists() and not folder.is_dir():
        problems.append(Problem("error", str(folder), 0, "is a file, not a folder of cards"))
        return []
    if not folder.is_dir():
        problems.append(Problem("error", str(folder), 0, "the cards/ folder is missing"))
        return []
    paths = sorted(folder.glob("*.md"))
    if not paths:
        problems.append(Problem("error", str(folder), 0, "no service cards (*.md) found"))
    parsed = [(path, *_read_card(path, emails, today, problems)) for path in paths]
    # Of two files claiming one id, the one named after it keeps it; the other is the duplicate.
    parsed.sort(key=lambda item: (item[1] != item[0].stem, str(item[0])))
    cards: list[Card] = []
    seen: dict[str, str] = {}
    for path, card_id, card in parsed:
        if card_id in seen:
            problems.append(
                Problem(
                    "error",
                    str(path),
                    _line_of(str(path), "id"),
                    f"duplicate id '{card_id}' (also in {seen[card_id]})",
                )
            )
            continue
        if card_id:
            seen[card_id] = str(path)
        if card is not None:
            cards.append(card)
    cards.sort(key=lambda card: card.id)
    return cards


def _read_card(
    path: Path, emails: set[str] | None, today: date, problems: list[Problem]
) -> tuple[str, Card | None]:
    """The card's id (as written, for duplicate checks) and the card, if it has no error."""
    name = str(path)
    text = _read_text(path, problems)
    if text is None:
        return "", None
    if not text.lstrip().startswith("---"):
        problems.append(
            Problem("error", name, 1, "missing front matter (a '---' block at the top)")
        )
        return "", None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct starts ("[" left open), which is
        # where the fix goes; the problem mark is only where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1  # 0-based, counted from the first "---"
        reason = getattr(exc, "problem", None) or "cannot be parsed"
        problems.append(Problem("error", name, line, f"malformed YAML front matter: {reason}"))
        return "", None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp in month 13
        problems.append(Problem("error", name, 1, f"malformed YAML front matter: {exc}"))
        return "", None
    meta: dict[str, Any] = dict(post.metadata)
    before = len(problems)
    card_id = _text(meta.get("id"))
    for key in ("id", "title", "team", "owners"):
        if not meta.get(key):
            problems.append(Problem("error", name, _line_of(name, key) or 1, f"missing '{key}'"))
    if card_id and not _ID.match(card_id):
        problems.append(
            Problem(
                "error",
                name,
                _line_of(name, "id"),
                f"id '{card_id}' must use lowercase letters, digits and '-'",
            )
        )
    if card_id and card_id != path.stem:
        problems.append(
            Problem(
                "error",
                name,
                _line_of(name, "id"),
                f"id '{card_id}' differs from the file name '{path.stem}'",
            )
        )
    owners = [o.lower() for o in _strings(meta.get("owners"))]
    for owner in owners:
        if emails is not None and owner not in emails:
            problems.append(
                Problem(
                    "error", name, _line_of(name, "owners"), f"owner '{owner}' is not in people.csv"
                )
            )
    updated = _date(meta.get("updated"), name, problems)
    if updated and today - updated > STALE_AFTER:
        problems.append(
            Problem(
                "warning",
                name,
                _line_of(name, "updated"),
                f"not reviewed since {updated.isoformat()} (over 12 months)",
            )
        )
    sections = _sections(post.content)
    for heading, key in SECTIONS.items():
        if key not in sections:
            problems.append(
                Problem(
                    "warning", name, 0, f"missing section '## {heading[0].upper()}{heading[1:]}'"
                )
            )
    if any(p.level == "error" for p in problems[before:]):
        return card_id, None
    return card_id, Card(
        id=card_id,
        title=_text(meta["title"]),
        team=_text(meta["team"]),
        owners=tuple(owners),
        aliases=tuple(_strings(meta.get("aliases"))),
        updated=updated,
        sections=sections,
        path=name,
    )


def _sections(body: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        match = re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if match and not line.startswith("###"):
            if current:
                sections[current] = "\n".join(lines).strip()
            current = SECTIONS.get(match.group(1).strip().casefold())
            lines = []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    return sections


def _date(value: Any, file: str, problems: list[Problem]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):  # YAML reads `2026-10-14 09:30:00` as a timestamp
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(str(value).strip()).date()
    except ValueError:
        problems.append(
            Problem(
                "warning",
                file,
                _line_of(file, "updated"),
                f"'updated: {value}' is not an ISO date (YYYY-MM-DD)",
            )
        )
        return None


# -- people and clients ------------------------------------------------------------------


def _read_people(path: Path, problems: list[Problem]) -> list[PersonRecord]:
    rows = _read_csv(path, ("email", "name", "team"), problems, required=True)
    people: list[PersonRecord] = []
    seen: dict[str, int] = {}
    ids: dict[tuple[str, str], int] = {}  # (column, id) -> line, for slack_id and teams_id
    for line, row in rows:
        email = row.get("email", "").strip().lower()
        missing = [c for c in ("email", "name", "team") if not row.get(c, "").strip()]
        if missing:
            problems.append(Problem("error", str(path), line, f"missing {', '.join(missing)}"))
            continue
        if not _EMAIL.match(email):
            problems.append(Problem("error", str(path), line, f"'{email}' is not an email address"))
            continue
        if email in seen:
            problems.append(
                Problem(
                    "error",
                    str(path),
                    line,
                    f"duplicate email '{email}' (also on line {seen[email]})",
                )
            )
            continue
        role = (row.get("role") or "member").strip().lower()
        if role not in ROLES:
            problems.append(
                Problem("warning", str(path), line, f"unknown role '{role}', treated as member")
            )
            role = "member"
        if _platform_id_taken(row, line, ids, str(path), problems):
            continue
        seen[email] = line
        people.append(
            PersonRecord(
                email=email,
                name=row["name"].strip(),
                team=row["team"].strip(),
                office=(row.get("office") or "").strip(),
                title=(row.get("title") or "").strip(),
                role=role,
                slack_id=(row.get("slack_id") or "").strip(),
                teams_id=(row.get("teams_id") or "").strip(),
            )
        )
    return people


def _platform_id_taken(
    row: dict[str, str],
    line: int,
    ids: dict[tuple[str, str], int],
    file: str,
    problems: list[Problem],
) -> bool:
    """Report a Slack or Teams id already given to someone else: it would sign one person in
    as the other. Remember the row's ids otherwise."""
    taken = False
    for column in ("slack_id", "teams_id"):
        value = (row.get(column) or "").strip()
        if value and (column, value.casefold()) in ids:
            other = ids[(column, value.casefold())]
            problems.append(
                Problem("error", file, line, f"{column} '{value}' is also on line {other}")
            )
            taken = True
    if not taken:
        for column in ("slack_id", "teams_id"):
            if value := (row.get(column) or "").strip():
                ids[(column, value.casefold())] = line
    return taken


def _read_clients(
    path: Path, emails: set[str] | None, card_ids: set[str], problems: list[Problem]
) -> list[ClientRecord]:
    if not path.exists():
        return []
    clients: list[ClientRecord] = []
    seen: set[str] = set()
    lines: dict[str, int] = {}
    for line, row in _read_csv(path, ("name",), problems, required=False):
        name = (row.get("name") or "").strip()
        if not name:
            problems.append(Problem("error", str(path), line, "missing name"))
            continue
        if name.casefold() in seen:
            problems.append(Problem("error", str(path), line, f"duplicate client '{name}'"))
            continue
        owner = (row.get("owner") or "").strip().lower()
        if owner and emails is not None and owner not in emails:
            problems.append(
                Problem(
                    "error", str(path), line, f"owner '{owner}' of '{name}' is not in people.csv"
                )
            )
            continue
        services = _split(row.get("services"))
        unknown = [s for s in services if s not in card_ids]
        if unknown:
            problems.append(
                Problem(
                    "error",
                    str(path),
                    line,
                    f"unknown service id(s) {', '.join(unknown)} for '{name}'",
                )
            )
            continue
        seen.add(name.casefold())
        lines[name] = line
        clients.append(
            ClientRecord(
                name=name,
                aliases=tuple(_split(row.get("aliases"))),
                sector=(row.get("sector") or "").strip(),
                owner=owner,
                services=tuple(services),
            )
        )
    _names_that_are_aliases(clients, lines, str(path), problems)
    return clients


def _names_that_are_aliases(
    clients: list[ClientRecord], lines: dict[str, int], file: str, problems: list[Problem]
) -> None:
    """Warn about a client named like another client's alias: a mention would be ambiguous."""
    aliases = {
        alias.casefold(): other for other in clients for alias in other.aliases if alias.strip()
    }
    for client in clients:
        other = aliases.get(client.name.casefold())
        if other is not None and other.name != client.name:
            problems.append(
                Problem(
                    "warning",
                    file,
                    lines[client.name],
                    f"client '{client.name}' is also an alias of '{other.name}'"
                    f" (line {lines[other.name]}); mentions of it will be ambiguous",
                )
            )


def _read_csv(
    path: Path, columns: tuple[str, ...], problems: list[Problem], required: bool
) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        if required:
            problems.append(Problem("error", str(path), 0, f"{path.name} is missing"))
        return []
    if path.is_dir():
        problems.append(Problem("error", str(path), 0, "is a folder, not a CSV file"))
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            absent = [c for c in columns if c not in header]
            if absent:
                problems.append(
                    Problem("error", str(path), 1, f"missing column(s): {', '.join(absent)}")
                )
                return []
            twice = sorted({h for h in header if h and header.count(h) > 1})
            if twice:
                # The last of two columns would silently win (a second `role` makes admins).
                problems.append(
                    Problem(
                        "error",
                        str(path),
                        1,
                        f"duplicate column(s): {', '.join(repr(h) for h in twice)}",
                    )
                )
                return []
            rows = []
            for row in reader:
                clean = {
                    (k or "").strip().lower(): clean_text(v or "")
                    for k, v in row.items()
                    if isinstance(v, str | type(None))
                }
                if any(v.strip() for v in clean.values()):
                    rows.append((reader.line_num, clean))
            return rows
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem("error", str(path), 0, f"cannot be read as UTF-8 CSV: {exc}"))
        return []
    except OSError as exc:
        problems.append(Problem("error", str(path), 0, f"cannot be read: {exc.strerror}"))
        return []


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    """A file's text (a byte-order mark dropped), or None with the problem recorded."""
    if path.is_dir():
        problems.append(Problem("error", str(path), 0, "is a folder, not a card file"))
        return None
    try:
        # Control characters and bot.render's data marks have no place in content.
        return clean_text(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(Problem("error", str(path), 0, "not UTF-8 text"))
    except OSError as exc:
        problems.append(Problem("error", str(path), 0, f"cannot be read: {exc.strerror}"))
    return None


# -- small parsers -----------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()]


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _line_of(file: str, key: str) -> int:
    """The line on which a front-matter key is written (0 if absent)."""
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), 0)


# -- the database ------------------------------------------------------------------------


@dataclass
class LoadSummary:
    """What a load changed, for the CLI to report."""

    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, kind: str) -> None:
        table = getattr(self, bucket)
        table[kind] = table.get(kind, 0) + 1


Progress = Callable[[str, int, int], None]
_T = TypeVar("_T")


def load_into(session: Session, catalog: Catalog, progress: Progress | None = None) -> LoadSummary:
    """Upsert a catalog into the database inside the caller's transaction.

    Changed rows are updated in place; cards no longer in the folder are retired and people
    who left are deactivated, never deleted, so referrals and points that point at them stay.
    """
    summary = LoadSummary()
    _load_teams(session, catalog)
    people = _load_people(session, catalog, summary, progress)
    _load_cards(session, catalog, summary, progress)
    _load_clients(session, catalog, people, summary)
    if catalog.firm is not None:
        _load_firm(session, catalog.firm)
    return summary


def _load_firm(session: Session, firm: Firm) -> None:
    from bot.store import models

    row = session.get(models.Firm, 1)
    if row is None:
        session.add(
            models.Firm(id=1, name=firm.name, currency=firm.currency, timezone=firm.timezone)
        )
    else:
        _assign(row, {"name": firm.name, "currency": firm.currency, "timezone": firm.timezone})


def _load_teams(session: Session, catalog: Catalog) -> None:
    from sqlmodel import select

    from bot.store import models

    known = {t.name for t in session.exec(select(models.Team))}
    for name in catalog.teams():
        if name not in known:
            session.add(models.Team(name=name))


def _load_people(
    session: Session, catalog: Catalog, summary: LoadSummary, progress: Progress | None
) -> dict[str, models.Person]:
    from sqlmodel import select

    from bot.store import models

    rows = {p.email: p for p in session.exec(select(models.Person))}
    for person in _reported(catalog.people, "people", progress):
        values: dict[str, Any] = {
            "name": person.name,
            "team": person.team,
            "office": person.office,
            "title": person.title,
            "role": person.role,
            "slack_id": person.slack_id or None,
            "teams_id": person.teams_id or None,
            "active": True,
        }
        row = rows.get(person.email)
        if row is None:
            row = models.Person(email=person.email, **values)
            session.add(row)
            rows[person.email] = row
            summary.count("added", "people")
        elif _assign(row, values, keep_if_empty=("slack_id", "teams_id")):
            summary.count("updated", "people")
    listed = {p.email for p in catalog.people}
    for email, row in rows.items():
        if email not in listed and _assign(row, {"active": False}):
            summary.count("retired", "people")
    _release_platform_ids(catalog, rows)
    session.flush()
    return rows


def _release_platform_ids(catalog: Catalog, rows: dict[str, models.Person]) -> None:
    """An id the folder gives to one person is no one else's, even if learnt at first contact:
    otherwise a Slack or Teams id would resolve to the wrong person."""
    for column in ("slack_id", "teams_id"):
        owner = {getattr(p, column): p.email for p in catalog.people if getattr(p, column)}
        for email, row in rows.items():
            value = getattr(row, column)
            if value and owner.get(value, email) != email:
                setattr(row, column, None)


def _load_cards(
    session: Session, catalog: Catalog, summary: LoadSummary, progress: Progress | None
) -> None:
    from sqlmodel import select

    from bot.store import models

    rows = {c.id: c for c in session.exec(select(models.ServiceCard))}
    for card in _reported(catalog.cards, "cards", progress):
        values: dict[str, Any] = {
            "title": card.title,
            "team": card.team,
            "owners": list(card.owners),
            "aliases": list(card.aliases),
            "sections": dict(card.sections),
            "updated": card.updated,
            "retired": False,
        }
        row = rows.get(card.id)
        if row is None:
            session.add(models.ServiceCard(id=card.id, **values))
            summary.count("added", "cards")
        elif _assign(row, values):
            summary.count("updated", "cards")
    listed = {c.id for c in catalog.cards}
    for card_id, row in rows.items():
        if card_id not in listed and _assign(row, {"retired": True}):
            summary.count("retired", "cards")


def _load_clients(
    session: Session, catalog: Catalog, people: dict[str, models.Person], summary: LoadSummary
) -> None:
    from sqlmodel import select

    from bot.store import models

    rows = {c.name.casefold(): c for c in session.exec(select(models.Client))}
    for client in catalog.clients:
        owner = people.get(client.owner)
        values: dict[str, Any] = {
            "aliases": list(client.aliases),
            "sector": client.sector,
            "owner_id": owner.id if owner else None,
            "services": list(client.services),
            "provisional": False,
            "retired": False,
        }
        row = rows.get(client.name.casefold())
        if row is None:
            session.add(models.Client(name=client.name, **values))
            summary.count("added", "clients")
        elif _assign(row, values):
            summary.count("updated", "clients")
    listed = {c.name.casefold() for c in catalog.clients}
    for key, row in rows.items():
        # Provisional clients came from referrals, not from the folder: keep them.
        if key not in listed and not row.provisional and _assign(row, {"retired": True}):
            summary.count("retired", "clients")


def _reported(items: Sequence[_T], kind: str, progress: Progress | None) -> Iterator[_T]:
    """`items` one by one, telling `progress` after every 500th and the last."""
    total = len(items)
    for n, item in enumerate(items, 1):
        yield item
        if progress and (n % 500 == 0 or n == total):
            progress(kind, n, total)


def _assign(row: Any, values: dict[str, Any], keep_if_empty: tuple[str, ...] = ()) -> bool:
    """Set the values that differ and stamp the row's `changed_at` if any did (a rename
    keeps a table's count and highest id: the stamp is how `Context` sees it)."""
    from bot.store.models import utcnow

    changed = False
    for key, value in values.items():
        if key in keep_if_empty and not value:
            continue  # an id learnt at first contact outlives a blank column
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed and hasattr(row, "changed_at"):  # the firm row has no stamp: it is read whole
        row.changed_at = utcnow()
    return changed


def from_store(session: Session) -> Catalog:
    """The catalog as the database holds it: active people, live cards and clients."""
    from sqlmodel import select

    from bot.store import models

    people_rows = session.exec(select(models.Person).where(models.Person.active)).all()
    by_id = {p.id: p for p in session.exec(select(models.Person))}
    learned = _learned_aliases(session)
    cards = [
        Card(
            id=c.id,
            title=c.title,
            team=c.team,
            owners=tuple(c.owners),
            aliases=_with_learned(c.aliases, learned.get(c.id, [])),
            updated=c.updated,
            sections=dict(c.sections),
        )
        for c in session.exec(
            select(models.ServiceCard)
            .where(models.ServiceCard.retired == False)  # noqa: E712
            .order_by(models.ServiceCard.id)
        )
    ]
    people = [
        PersonRecord(
            email=p.email,
            name=p.name,
            team=p.team,
            office=p.office,
            title=p.title,
            role=p.role,
            slack_id=p.slack_id or "",
            teams_id=p.teams_id or "",
        )
        for p in people_rows
    ]
    emails: dict[int | None, str] = {pid: p.email for pid, p in by_id.items()}
    clients = [
        _client(c, emails)
        for c in session.exec(
            select(models.Client).where(models.Client.retired == False)  # noqa: E712
        )
    ]
    return Catalog(cards=cards, people=people, clients=clients, firm=_stored_firm(session))


def new_clients(session: Session, after_id: int) -> list[ClientRecord]:
    """The live clients added after the row `after_id` (provisional ones from referrals)."""
    from sqlmodel import select

    from bot.store import models

    rows = session.exec(
        select(models.Client)
        .where(models.Client.id > after_id)  # type: ignore[operator]
        .where(models.Client.retired == False)  # noqa: E712
        .order_by(models.Client.id)  # type: ignore[arg-type]
    ).all()
    owners = {r.owner_id for r in rows if r.owner_id is not None}
    emails = {
        p.id: p.email
        for p in session.exec(select(models.Person).where(models.Person.id.in_(owners)))  # type: ignore[union-attr]
    }
    return [_client(row, emails) for row in rows]


def _client(row: models.Client, emails: dict[int | None, str]) -> ClientRecord:
    return ClientRecord(
        name=row.name,
        aliases=tuple(row.aliases),
        sector=row.sector,
        owner=emails.get(row.owner_id, ""),
        services=tuple(row.services),
    )


def _learned_aliases(session: Session) -> dict[str, list[str]]:
    """Aliases accepted from people's questions (`bot.learning`): a reload keeps them."""
    from sqlmodel import select

    from bot.store import models

    learned: dict[str, list[str]] = {}
    for row in session.exec(select(models.LearnedAlias).order_by(models.LearnedAlias.id)):  # type: ignore[arg-type]
        learned.setdefault(row.card_id, []).append(row.alias)
    return learned


def _with_learned(aliases: list[str], learned: list[str]) -> tuple[str, ...]:
    merged = list(aliases)
    seen = {a.casefold() for a in merged}
    for alias in learned:
        if alias.casefold() not in seen:
            merged.append(alias)
            seen.add(alias.casefold())
    return tuple(merged)


def _stored_firm(session: Session) -> Firm | None:
    """The firm the last load described (None before any load)."""
    from bot.store import models

    row = session.get(models.Firm, 1)
    if row is None:
        return None
    return Firm(name=row.name, currency=row.currency, timezone=row.timezone)
