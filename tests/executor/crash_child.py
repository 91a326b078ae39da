"""The process the crash test kills: apply a saved plan against the Atlassian emulator.

Run as ``python -m tests.executor.crash_child BASE_URL STORE_PATH PLAN_PATH``. It prints
``ready`` once everything is imported and opened, then applies the plan. Without arguments it
imports, prints ``imported`` and reads the three from one line of stdin: the test starts the
next trial's child while it checks this one, so the import (most of a trial) is not waited for.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.core.plan_json import plan_from_json
from offboard.executor import apply_plan
from offboard.ports import SystemClock
from offboard.store import open_store

ORG_ID = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
ORG_KEY = "emulator-org-key"
DIRECTORY_ID = "dir-main"


def directory_at(base_url: str) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG_ID,
        org_key=ORG_KEY,
        base_url=base_url,
        directory_id=DIRECTORY_ID,
        rate_per_second=1000.0,
        burst=100,
    )


async def main(base_url: str, store_path: str, plan_document: str) -> None:
    store = open_store(store_path)
    plan = plan_from_json(plan_document)
    async with directory_at(base_url) as directory:
        print("ready", flush=True)
        await apply_plan(
            plan,
            directory=directory,
            store=store,
            clock=SystemClock(),
            run_id="crashing",
            concurrency=2,
        )
    print("done", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print("imported", flush=True)
        sys.argv[1:] = sys.stdin.readline().rstrip("\n").split("\t")
    base_url, store_path, plan_path = sys.argv[1:4]
    asyncio.run(main(base_url, store_path, Path(plan_path).read_text(encoding="utf-8")))
