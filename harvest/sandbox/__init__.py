"""Offline simulators of the OneAtlas, Arlula and Sentinel Hub HTTP APIs.

`harvest sandbox serve` runs all three in one process; tests, benchmarks and the demo talk to it over
loopback exactly as they would talk to the real services.
"""
