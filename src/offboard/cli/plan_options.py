"""Options `plan` and `apply` share, kept light: `apply --help` must not import `plan`."""

from __future__ import annotations

from typing import Annotated

import typer

ShowLinksOption = Annotated[
    bool,
    typer.Option(
        "--show-links",
        help="List each link to record (bookkeeping, no Atlassian change); counted otherwise.",
    ),
]
AdoptOption = Annotated[
    bool,
    typer.Option(
        "--adopt-backlog",
        help="Day one: also link and act on the people who left before offboard was "
        "watching (rule adopted-leaver), under the same rules and guards.",
    ),
]
