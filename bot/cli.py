"""The `crossbot` command line (also `python -m bot`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Crossbot: who does what, referrals and cross-selling weeks, in Slack and Teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cards_app = typer.Typer(help="Service cards.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
person_app = typer.Typer(help="Data-protection requests about one person.", no_args_is_help=True)
app.add_typer(cards_app, name="cards")
app.add_typer(db_app, name="db")
app.add_typer(person_app, name="person")

ContentOption = Annotated[
    Path | None,
    typer.Option("--content", help="Read this content folder directly instead of the database."),
]


def main() -> None:
    """Entry point of the console script."""
    app()
