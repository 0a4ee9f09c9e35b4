"""Finding one public catalog item by id, as the ordering and access endpoints need."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.core import Sandbox
from harvest.sandbox.oneatlas.items import ItemFacts


@dataclass(frozen=True)
class CatalogItem:
    """A searchable public item: its world row and the facts of its current version."""

    item_id: str
    row: int
    facts: ItemFacts

    @property
    def constellation(self) -> str:
        return {0: "PHR", 1: "PNEO", 2: "SPOT"}[int(self.facts.constellation_code[0])]

    @property
    def platform(self) -> str:
        return self.facts.identifiers[0][0].split("_")[1]

    @property
    def archive_identifier(self) -> str:
        return self.facts.identifiers[0][0]

    @property
    def is_album(self) -> bool:
        return bool(self.facts.album[0])

    @property
    def cloud(self) -> float:
        return float(self.facts.cloud[0])

    @property
    def key(self) -> int:
        return int(self.facts.keys[0])

    def footprint(self, sandbox: Sandbox) -> BaseGeometry:
        return sandbox.world.shapes[self.row]


def public_item(sandbox: Sandbox, item_id: str, now_ns: int) -> CatalogItem | None:
    """The public catalog item with this id, if it exists and is searchable now."""
    row = sandbox.world.row_of_item_id(item_id)
    view = sandbox.world.oneatlas
    if row is None or not view.contains(np.array([row]))[0]:
        return None
    state = view.state(now_ns)
    position = view.position(np.array([row]))
    if not state.visible[position[0]]:
        return None
    return CatalogItem(item_id=item_id, row=row, facts=ItemFacts.at(view, state, position))
