"""`python -m benchmarks [sandbox ...]`: run the named benchmarks (all of them by default)."""

from __future__ import annotations

import argparse

from benchmarks import dagster_backfill, delivery_download, harvest_catalog, sandbox_search

BENCHMARKS = {"sandbox": sandbox_search.run, "harvest": harvest_catalog.run, "backfill": dagster_backfill.run}
BENCHMARKS["delivery"] = delivery_download.run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], help="benchmarks to run (default: all)")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        BENCHMARKS[name]()
        print()


if __name__ == "__main__":
    main()
