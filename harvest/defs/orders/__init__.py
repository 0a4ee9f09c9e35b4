"""Ordering in Dagster: quoted candidates, placing and approving orders, following them, landing deliveries."""
