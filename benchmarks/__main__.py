"""`python -m benchmarks [sandbox|harvest|write|backfill|delivery ...]`: run the named benchmarks (all by default)."""

from __future__ import annotations

import argparse
import warnings

# Dagster flags beta parameters (backfill_policy, …) on import: noise in a benchmark's output
warnings.filterwarnings("ignore", message=r".*is currently in beta.*")

from benchmarks import catalog_write, dagster_backfill, delivery_download, harvest_catalog, sandbox_search  # noqa: E402

BENCHMARKS = {
    "sandbox": sandbox_search.run,
    "harvest": harvest_catalog.run,
    "write": catalog_write.run,
    "backfill": dagster_backfill.run,
    "delivery": delivery_download.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], help="benchmarks to run (default: all)")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        BENCHMARKS[name]()
        print()


if __name__ == "__main__":
    main()
