"""Child process of the SIGKILL row: one full reconciliation with apply, killed by the test.

python -m tests.faults.kill_child KEYCLOAK_URL ATLASSIAN_URL STORE_PATH
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.faults.rig import reconcile_once

if __name__ == "__main__":
    kc_url, at_url, store = sys.argv[1:4]
    asyncio.run(reconcile_once(kc_url, at_url, Path(store)))
