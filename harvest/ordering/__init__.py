"""Ordering: quotes, the spend ledger, placing orders exactly once, tracking them, and landing deliveries."""
