"""Sub-commands of the `harvest` CLI, one module per group (registered in harvest/cli.py)."""
