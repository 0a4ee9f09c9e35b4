"""Provider order desks: quote, place (once), find (reconcile) and track orders at each provider.

Each seller's desk opener is in `factory` and named by the provider registry (`harvest.registry.open_desk`).
No Dagster here.
"""
