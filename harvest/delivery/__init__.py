"""Deliveries: provider files landed on disk, resumable, verified and atomically finalised, with a manifest."""
