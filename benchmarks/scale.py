"""Crossbot at any firm size: build time, per-turn cost, memory and search beside BM25.

    python benchmarks/scale.py content/ [--sizes 200 2000] [--people 5000] [--big]

Builds synthetic firms from a content folder's vocabulary (its cards recombined as
`search_speed.py` does, people and clients named from its people.csv and clients.csv words
plus the shipped glossary), deterministic with `--seed`. At each size it prints:

Times are CPU time of the thread doing the work (see `timed`), with the wall clock beside
them: on a shared machine the wall clock mostly measures the neighbours. The machine's load
average is printed at the start and the end.

- content build: the search index and the referral parser's lookups, built from scratch
  (CPU and wall; the search build tokenises the cards, the parser's reads those tokens),
  and the build's peak memory: traced (tracemalloc) and the resident set it added in a
  child process (`ru_maxrss`);
- per-turn p50 / p95 through `conversation.handle` on a SQLite store for a who-does
  question, a referral sentence, the confirm button and the leaderboard (each speaker has
  had a first turn, the welcome, before: it is timed apart, as "first contact");
- a referral to a new client: that turn's cost beside a known client's, and whether it
  rebuilt the search index or the parser's lookups;
- search p95 beside rank-bm25 and bm25s (the `bench` extra), in the same run, and
  Crossbot's p95 over bm25s's. rank-bm25 scores every card in Python, so it is skipped (and
  said so) above `--rank-bm25-up-to` cards.

The default sizes are 200, 2,000 and 20,000 cards (the last takes a few minutes);
`--sizes` replaces them, `--turns-up-to N` skips the chat turns in bigger firms.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_speed import generate  # noqa: E402

from bot._search.tokens import forget as forget_tokens  # noqa: E402
from bot.catalog import Catalog, ClientRecord, PersonRecord, load_catalog, load_into  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.conversation import handle  # noqa: E402
from bot.messages import Turn  # noqa: E402
from bot.search import SearchIndex  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.understand import Directory  # noqa: E402

_CLIENT_ENDINGS = (
    "Foods Holdings Logistics Group Partners Estates Capital Systems Energy Retail "
    "Healthcare Homes Engineering Media Labs Trust Ventures Motors Hotels Farms"
).split()
_WORD = re.compile(r"[A-Za-z]{4,}")


def synthetic_firm(content: Catalog, cards: int, people: int, seed: int = 7) -> Catalog:
    """A firm of `cards` cards, `people` people and as many clients as cards (at least 500)."""
    rng = random.Random(seed)
    grown = generate(content.cards, cards, seed)
    firsts = sorted({p.name.split()[0] for p in content.people})
    surnames = sorted({p.name.split()[-1] for p in content.people if len(p.name.split()) > 1})
    teams = sorted({c.team for c in content.cards})
    domain = content.people[0].email.split("@")[1] if content.people else "firm.example"
    staff: list[PersonRecord] = []
    for n in range(people):
        first, last = rng.choice(firsts), rng.choice(surnames)
        email = f"{first}.{last}.{n}@{domain}".lower()
        slack_id = f"U{n:08d}"
        staff.append(PersonRecord(email, f"{first} {last}", rng.choice(teams), slack_id=slack_id))
    owners = [p.email for p in staff]
    grown = [replace(c, owners=(rng.choice(owners),)) for c in grown]
    stems = sorted(
        {w.capitalize() for c in content.clients for w in _WORD.findall(c.name)}
        | {w.capitalize() for w in _glossary_words()}
    )
    clients: dict[str, ClientRecord] = {}
    while len(clients) < max(cards, 500):
        name = f"{rng.choice(stems)} {rng.choice(stems)} {rng.choice(_CLIENT_ENDINGS)}"
        acronym = "".join(w[0] for w in name.split()).upper() + str(len(clients) % 97)
        clients.setdefault(
            name.lower(), ClientRecord(name, aliases=(acronym,), owner=rng.choice(owners))
        )
    return replace(content, cards=grown, people=staff, clients=list(clients.values()))


def _glossary_words() -> set[str]:
    glossary = Path(__file__).resolve().parent.parent / "bot" / "data" / "glossary.csv"
    words = _WORD.findall(glossary.read_text(encoding="utf-8"))
    return {w.lower() for w in words[:: max(1, len(words) // 400)]}


def percentiles(times: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ordered = sorted(times)
    return 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * (len(ordered) - 1))]


WALL: dict[str, list[float]] = {}  # wall-clock seconds of the timed actions, by label


def timed(action: Callable[..., Any], *args: Any, label: str = "") -> tuple[float, Any]:
    """CPU seconds `action(*args)` took in this thread, and what it returned.

    CPU time rather than wall time: on a shared machine the wall clock mostly measures the
    neighbours (the figures leave out waiting for the disk). The wall time is kept in
    `WALL[label]` when a label is given.
    """
    started, wall = time.thread_time(), time.perf_counter()
    result = action(*args)
    if label:
        WALL.setdefault(label, []).append(time.perf_counter() - wall)
    return time.thread_time() - started, result


def _build(firm: Catalog) -> tuple[SearchIndex, Directory]:
    forget_tokens()  # from scratch: the cards tokenised once, for both
    index = SearchIndex.build(firm.cards, firm.people, firm.clients)
    directory = Directory.from_catalog(firm)
    directory._index.scorer  # noqa: B018 - built on first use: build it now
    return index, directory


def build_costs(firm: Catalog) -> dict[str, float]:
    """Seconds (CPU and wall) to build the search index and the parser's lookups, the traced
    peak MB, and the resident memory the build added in a child process."""
    forget_tokens()  # the search build tokenises the cards; the parser's reads the tokens
    wall = time.perf_counter()
    search_s, _ = timed(lambda: SearchIndex.build(firm.cards, firm.people, firm.clients))
    search_wall = time.perf_counter() - wall
    wall = time.perf_counter()
    parser_s, _ = timed(lambda: Directory.from_catalog(firm)._index.scorer)
    parser_wall = time.perf_counter() - wall
    gc.collect()
    tracemalloc.start()
    kept = _build(firm)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept
    return {
        "search_s": search_s,
        "parser_s": parser_s,
        "wall_s": search_wall + parser_wall,
        "peak_mb": peak / 1e6,
        "rss_mb": _child_rss(firm),
    }


def _child_rss(firm: Catalog) -> float:
    """MB of resident memory a build adds, measured in a forked child (its peak RSS less
    its RSS before building), so this process's own history doesn't count."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows, macOS spawn): not measured
        return float("nan")
    queue = context.Queue()
    child = context.Process(target=_rss_in_child, args=(firm, queue))
    child.start()
    added = float(queue.get())
    child.join()
    return added


def _rss_in_child(firm: Catalog, queue: Any) -> None:
    with open("/proc/self/statm") as statm:  # pages resident now (Linux)
        before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    _build(firm)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux
    queue.put(peak - before)


def _unbuildable(_: Catalog) -> None:
    raise AssertionError("not built yet")


class Chat:
    """A SQLite store holding the firm, and turns through `conversation.handle`."""

    def __init__(self, firm: Catalog, folder: Path):
        self.store = Store(f"sqlite:///{folder / 'scale.db'}")
        with self.store.write() as session:
            load_into(session, firm)
        self.ctx = Context(self.store, Settings(), content_check_seconds=3600)
        self.firm = firm

    def say(self, person: str, text: str) -> list[Any]:
        return handle(Turn(person, f"bench:{person}", text=text), self.ctx)

    def press(self, person: str, reply: Any, action: str) -> list[Any]:
        button = next(b for r in reply for b in r.buttons if b.action == action)
        turn = Turn(person, f"bench:{person}", action=button.action, payload=button.value)
        return handle(turn, self.ctx)


def turn_costs(firm: Catalog, folder: Path, rounds: int) -> dict[str, Any]:
    """Per-turn p50/p95 (ms) for who-does, referral, confirm and leaderboard, and a new client."""
    chat = Chat(firm, folder)
    rng = random.Random(11)
    speakers = [p.email for p in firm.people[:200]]
    receivers = firm.people[200:400]
    known = firm.clients[:rounds]
    questions = [f"who does {c.title.lower()}?" for c in rng.sample(firm.cards, rounds)]
    chat.say(speakers[0], questions[0])  # warm: the content caches
    chat.say(speakers[0], "/leaderboard")
    warm = f"{firm.clients[-1].name} to {receivers[-1].name} for {firm.cards[-1].title.lower()}"
    chat.say(speakers[0], f"I've introduced {warm}")  # ...and the parser's
    times: dict[str, list[float]] = {"first contact": []}
    # A person's first turn is also their welcome (once ever): timed apart from the rest.
    for who in speakers[1:]:
        spent = timed(chat.say, who, "/leaderboard", label="first contact")[0]
        times["first contact"].append(spent)
    times.update({"who-does": [], "referral": [], "confirm": [], "board": []})
    for n in range(rounds):
        who = speakers[n % len(speakers)]
        times["who-does"].append(timed(chat.say, who, questions[n], label="who-does")[0])
        card = firm.cards[n % len(firm.cards)]
        sentence = (
            f"I've introduced {known[n].name} to {receivers[n].name} for "
            f"{card.title.lower()}, maybe £{20 + n}k"
        )
        spent, replies = timed(chat.say, who, sentence, label="referral")
        times["referral"].append(spent)
        if any(b.action == "referral.confirm" for r in replies for b in r.buttons):
            pressed = timed(chat.press, who, replies, "referral.confirm", label="confirm")
            times["confirm"].append(pressed[0])
        times["board"].append(timed(chat.say, who, "/leaderboard", label="board")[0])
    # A new client reaches the caches at the next content check: check on every turn now,
    # and time the turn after each new client's confirm (it pays the check and the add).
    chat.ctx.content_check_seconds = 0
    chat.say(speakers[0], "/leaderboard")
    search_before = chat.ctx.cached("search_index", _unbuildable)
    parser_before = chat.ctx.cached("referral_directory", _unbuildable)
    checked, after_new = [], []
    # names a whole word apart: "Zephyrine Audit Trust" and "…Audit Homes" are two clients,
    # where "…Novel1…" and "…Novel2…" would read as one with a typo
    words = sorted(_glossary_words())
    new_names = [f"Zephyrine {rng.choice(words).capitalize()} {e}" for e in _CLIENT_ENDINGS]
    new_names = list(dict.fromkeys(new_names))[:rounds]
    for n in range(len(new_names)):
        who = speakers[n % len(speakers)]
        card = firm.cards[n % len(firm.cards)]
        checked.append(timed(chat.say, who, "/leaderboard", label="board, checking")[0])
        sentence = (
            f"I've introduced {new_names[n]} to {receivers[n].name} for "
            f"{card.title.lower()}, maybe £{20 + n}k"
        )
        replies = chat.say(who, sentence)
        if any(b.action == "referral.confirm" for r in replies for b in r.buttons):
            chat.press(who, replies, "referral.confirm")
            after_new.append(timed(chat.say, who, "/leaderboard", label="board, new client")[0])
    rebuilt = [
        name
        for name, key, before in (
            ("search index", "search_index", search_before),
            ("parser", "referral_directory", parser_before),
        )
        if chat.ctx.cached(key, _unbuildable) is not before
    ]
    known = sum(c.name.startswith("Zephyrine") for c in chat.ctx.catalog().clients)
    chat.store.dispose()
    result: dict[str, Any] = {name: percentiles(t) for name, t in times.items() if t}
    result["board, checking"] = percentiles(checked)
    result["board, new client"] = percentiles(after_new) if after_new else (0.0, 0.0)
    result["rebuilt"] = rebuilt or ["nothing"]
    result["new clients known"] = known
    return result


def search_costs(
    firm: Catalog, questions: list[str], rank_bm25_up_to: int
) -> dict[str, tuple[float, float]]:
    """Per-question p50/p95 (ms) for Crossbot's search, rank-bm25 and bm25s."""
    index = SearchIndex.build(firm.cards, firm.people, firm.clients)
    systems: dict[str, Callable[[str], object]] = {"crossbot": index.search}
    documents = [" ".join([c.title, c.team, *c.aliases, *c.sections.values()]) for c in firm.cards]
    if len(firm.cards) <= rank_bm25_up_to:
        from rank_bm25 import BM25Okapi

        model = BM25Okapi([_tokens(d) for d in documents])
        systems["rank-bm25"] = lambda q: model.get_scores(_tokens(q))
    else:  # it scores every card in Python: minutes of questions at this size
        print(f"  (rank-bm25 skipped above {rank_bm25_up_to:,} cards: --rank-bm25-up-to)")
    try:
        import bm25s
    except ImportError:
        print("  (bm25s not installed: pip install -e '.[bench]')")
    else:
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(documents, stopwords="en", show_progress=False), show_progress=False
        )

        def bm25s_search(q: str) -> object:
            query = bm25s.tokenize([q], stopwords="en", show_progress=False)
            return retriever.retrieve(query, k=3, show_progress=False)

        systems["bm25s"] = bm25s_search
    for ask in systems.values():
        for q in questions[:5]:
            ask(q)
    # Each question asked of every system in turn, so a neighbour's burst on the shared
    # machine falls on all of them alike rather than on whichever ran then.
    times: dict[str, list[float]] = {name: [] for name in systems}
    for q in questions:
        for name, ask in systems.items():
            times[name].append(timed(ask, q, label=f"search {name}")[0])
    return {name: percentiles(found) for name, found in times.items()}


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def run(
    content: Catalog, cards: int, people: int, rounds: int, seed: int, turns: bool, bm25: int
) -> None:
    firm = synthetic_firm(content, cards, people, seed)
    print(f"\n== {len(firm.cards)} cards, {len(firm.people)} people, {len(firm.clients)} clients")
    WALL.clear()
    built = build_costs(firm)
    print(
        f"  build        search {built['search_s']:.2f} s + parser {built['parser_s']:.2f} s"
        f" = {built['search_s'] + built['parser_s']:.2f} s CPU ({built['wall_s']:.2f} s wall);"
        f" peak {built['peak_mb']:.0f} MB traced, +{built['rss_mb']:.0f} MB resident"
    )
    if turns:
        with tempfile.TemporaryDirectory() as folder:
            costs = turn_costs(firm, Path(folder), rounds)
        for name, value in costs.items():
            if name not in ("rebuilt", "new clients known"):
                print(f"  {name:18} p50 {value[0]:7.2f} ms   p95 {value[1]:7.2f} ms{_wall(name)}")
        print(
            f"  {costs['new clients known']} new clients added in place; "
            f"rebuilt: {', '.join(costs['rebuilt'])}"
        )
    questions = [f"who does {c.title.lower()}?" for c in firm.cards[:: max(1, cards // 60)]]
    questions += [c.bullets("situations")[0] for c in firm.cards[:40] if c.bullets("situations")]
    found = search_costs(firm, questions, bm25)
    for name, (p50, p95) in found.items():
        print(f"  search {name:11} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{_wall('search ' + name)}")
    if "bm25s" in found:
        print(f"  search p95, Crossbot over bm25s: {found['crossbot'][1] / found['bm25s'][1]:.1f}x")


def _wall(label: str) -> str:
    """The wall-clock p95 of a timed label, for beside its CPU figures."""
    times = WALL.get(label)
    return f"   (wall p95 {percentiles(times)[1]:7.2f} ms)" if times else ""


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path, help="a content folder whose words seed the firms")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[200, 2000, 20_000], help="card counts"
    )
    parser.add_argument("--people", type=int, default=5000, help="people in each firm")
    parser.add_argument("--rounds", type=int, default=40, help="turns of each kind timed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--turns-up-to",
        type=int,
        default=20_000,
        help="time chat turns only in firms up to this many cards (loading 20,000 is slow)",
    )
    parser.add_argument(
        "--rank-bm25-up-to",
        type=int,
        default=5000,
        help="compare with rank-bm25 only in firms up to this many cards (it is slow)",
    )
    args = parser.parse_args()
    content = load_catalog(args.content)
    print(f"Crossbot at scale, firms grown from {args.content} (seed {args.seed}); {_load()}")
    for cards in args.sizes:
        turns = cards <= args.turns_up_to
        run(content, cards, args.people, args.rounds, args.seed, turns, args.rank_bm25_up_to)
    print(f"\n{_load()}")


if __name__ == "__main__":
    main()
