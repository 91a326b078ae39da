"""The executor: apply a plan with a journal before and after every side effect.

``apply_plan`` carries out a plan (links first, then each action with retries and a
read-back); ``recover`` settles what a crash left unfinished. See docs/concepts/journal.md.
"""

from offboard.executor.applying import PlanBlockedError, apply_plan, settled_keys
from offboard.executor.outcomes import ApplyReport, Outcome
from offboard.executor.readback import target_state_holds
from offboard.executor.recovering import recover
from offboard.executor.retrying import RetryPolicy

__all__ = [
    "ApplyReport",
    "Outcome",
    "PlanBlockedError",
    "RetryPolicy",
    "apply_plan",
    "recover",
    "settled_keys",
    "target_state_holds",
]
