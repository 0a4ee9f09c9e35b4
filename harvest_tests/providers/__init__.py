"""Tests of the shared provider HTTP layer."""
