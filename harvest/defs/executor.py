"""How runs execute: every step in the run's own process (no process per step on small machines)."""

import dagster as dg


@dg.definitions
def executor() -> dg.Definitions:
    """The in-process executor: harvest's steps wait on provider HTTP, not on the CPU."""
    return dg.Definitions(executor=dg.in_process_executor)
