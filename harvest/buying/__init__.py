"""Deciding what to buy: each AOI's ordering policy, the candidates it allows, their quotes and the decisions."""
