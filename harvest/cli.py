"""The `harvest` command."""

from __future__ import annotations

import click

from harvest.commands.backfill import backfill
from harvest.commands.catalog import catalog
from harvest.commands.dev import dev
from harvest.commands.orders import orders
from harvest.commands.sandbox import sandbox


@click.group()
@click.version_option(package_name="harvest")
def main() -> None:
    """harvest: a living catalog of commercial satellite imagery, and the orders that buy it."""


main.add_command(dev)
main.add_command(backfill)
main.add_command(sandbox)
main.add_command(catalog)
main.add_command(orders)


if __name__ == "__main__":
    main()
