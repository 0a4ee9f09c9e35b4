"""OneAtlas opensearch: parameters as docs/providers.md#oneatlas-catalog-search lists them, evaluated over the world.

Only the first 10,000 hits of a query are reachable (Elasticsearch's result window), so a query
sorts just enough rows for that window, and the sorted window is cached per catalog state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import shapely
import shapely.wkt
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from harvest.sandbox.oneatlas.items import ItemFacts, SortableFacts
from harvest.sandbox.oneatlas.ranges import Interval, RangeSyntaxError, parse_interval
from harvest.sandbox.world.world import Predicate, View
from harvest.timestamps import InvalidTimestamp, parse_ns

if TYPE_CHECKING:
    from harvest.sandbox.oneatlas.workspace import DeliveredFacts

RESULT_WINDOW = 10_000
MAX_ITEMS_PER_PAGE = 500
DEFAULT_ITEMS_PER_PAGE = 50
DEFAULT_SORT = "-acquisitionDate,cloudCover"

INSTANT_FIELDS = frozenset(
    {
        "acquisitionDate",
        "publicationDate",
        "lastUpdateDate",
        "processingDate",
        "expirationDate",
        "startDate",
        "meanDate",
    }
)
NUMBER_FIELDS = frozenset(
    {
        "cloudCover", "snowCover", "incidenceAngle", "incidenceAngleAcrossTrack", "incidenceAngleAlongTrack",
        "azimuthAngle", "illuminationAzimuthAngle", "illuminationElevationAngle", "resolution",
    }
)  # fmt: skip
CATEGORY_FIELDS = frozenset(
    {"constellation", "platform", "processingLevel", "productType", "productionStatus", "sensorType",
     "spectralRange", "workspace"}
)  # fmt: skip
TEXT_FIELDS = frozenset(
    {"archiveIdentifier", "parentIdentifier", "sourceIdentifier", "acquisitionIdentifier", "commercialReference",
     "customerReference", "internalReference", "contractId", "correlationId"}
)  # fmt: skip
SORTABLE = INSTANT_FIELDS | NUMBER_FIELDS
RELATIONS = ("intersects", "disjoint", "within", "contains")
_PAGING = frozenset({"itemsPerPage", "startPage", "page", "sortBy", "index"})


# the world's index tests `predicate(request geometry, footprint)`; OneAtlas' relation reads the other way
_INVERSE_PREDICATES: dict[str, Predicate] = {"intersects": "intersects", "within": "contains", "contains": "within"}


class SearchError(ValueError):
    """A search request the catalog refuses (HTTP 400)."""


@dataclass(frozen=True)
class SearchRequest:
    """A parsed opensearch request."""

    instants: tuple[tuple[str, Interval[int]], ...]
    numbers: tuple[tuple[str, Interval[float]], ...]
    categories: tuple[tuple[str, frozenset[str]], ...]
    texts: tuple[tuple[str, frozenset[str]], ...]
    ids: frozenset[str] | None
    geometries: tuple[BaseGeometry, ...]
    relation: str
    q: tuple[tuple[str, ...], ...]  # OR of ANDs of tokens
    sort: tuple[tuple[str, bool], ...]  # (field, descending)
    page: int
    items_per_page: int
    cache_key: tuple[Any, ...]

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.items_per_page


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _as_int(name: str, value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"{name} must be an integer, got {value!r}") from exc
    if number != int(number):
        raise SearchError(f"{name} must be an integer, got {value!r}")
    return int(number)


def _parse_geometry(value: Any) -> BaseGeometry:
    try:
        if isinstance(value, dict):
            geometry = shape(value)
        else:
            text = str(value).strip()
            geometry = shape(orjson.loads(text)) if text.startswith("{") else shapely.wkt.loads(text.upper())
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise SearchError(f"geometry is neither WKT nor GeoJSON: {exc}") from exc
    if geometry.is_empty:
        raise SearchError("geometry is empty")
    return geometry if geometry.is_valid else geometry.buffer(0)


def _parse_bbox(value: Any) -> BaseGeometry:
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError as exc:
        raise SearchError(f"bbox must be 'minLon,minLat,maxLon,maxLat', got {value!r}") from exc
    if miny > maxy:
        raise SearchError(f"bbox minLat {miny} is above maxLat {maxy}")
    if minx > maxx:  # crosses the antimeridian
        return shapely.union(shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy))
    return shapely.box(minx, miny, maxx, maxy)


def _parse_q(text: str) -> tuple[tuple[str, ...], ...]:
    groups = []
    for alternative in str(text).split(" OR "):
        tokens = tuple(t for t in (part.strip() for part in alternative.split(" AND ")) if t)
        if tokens:
            groups.append(tokens)
    return tuple(groups)


def parse_search(params: Mapping[str, Any], *, end_semantics: str = "iso") -> SearchRequest:
    """Turn query parameters (GET) or a JSON body (POST) into a SearchRequest."""
    instants, numbers, categories, texts = [], [], [], []
    ids: frozenset[str] | None = None
    geometries: list[BaseGeometry] = []
    relation = "intersects"
    q: tuple[tuple[str, ...], ...] = ()
    key_parts: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None or value == "":
            continue
        if name not in _PAGING:
            key_parts.append((name, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()))
        try:
            if name in INSTANT_FIELDS:
                instants.append((name, parse_interval(str(value), parse_ns, end_semantics=end_semantics)))
            elif name in NUMBER_FIELDS:
                numbers.append((name, parse_interval(str(value), float, end_semantics=end_semantics)))
        except (RangeSyntaxError, InvalidTimestamp) as exc:
            raise SearchError(f"invalid value for {name}: {exc}") from exc
        if name in CATEGORY_FIELDS:
            categories.append((name, frozenset(_as_list(value))))
        elif name in TEXT_FIELDS:
            texts.append((name, frozenset(_as_list(value))))
        elif name == "id":
            ids = frozenset(_as_list(value))
        elif name == "geometry":
            geometries.append(_parse_geometry(value))
        elif name == "bbox":
            geometries.append(_parse_bbox(value))
        elif name == "relation":
            relation = str(value)
            if relation not in RELATIONS:
                raise SearchError(f"relation must be one of {', '.join(RELATIONS)}, got {relation!r}")
        elif name == "q":
            q = _parse_q(str(value))

    items_per_page = _as_int("itemsPerPage", params.get("itemsPerPage", DEFAULT_ITEMS_PER_PAGE))
    if not 1 <= items_per_page <= MAX_ITEMS_PER_PAGE:
        raise SearchError(f"itemsPerPage must be between 1 and {MAX_ITEMS_PER_PAGE}, got {items_per_page}")
    page = _as_int("startPage", params.get("startPage", params.get("page", 1)))
    if page < 1:
        raise SearchError(f"startPage starts at 1, got {page}")
    if (page - 1) * items_per_page + items_per_page > RESULT_WINDOW:
        raise SearchError(
            f"Result window is too large: startPage * itemsPerPage must be at most {RESULT_WINDOW} "
            f"(got {page} * {items_per_page}); narrow the search, e.g. with a lastUpdateDate range"
        )
    sort = []
    for token in _as_list(params.get("sortBy") or DEFAULT_SORT):
        descending = token.startswith("-")
        field = token.lstrip("+-")
        if field not in SORTABLE:
            raise SearchError(f"cannot sort by {field!r}; sortable: {', '.join(sorted(SORTABLE))}")
        sort.append((field, descending))
    sort_key = tuple(sort)
    return SearchRequest(
        instants=tuple(instants),
        numbers=tuple(numbers),
        categories=tuple(categories),
        texts=tuple(texts),
        ids=ids,
        geometries=tuple(geometries),
        relation=relation,
        q=q,
        sort=sort_key,
        page=page,
        items_per_page=items_per_page,
        cache_key=(tuple(sorted(key_parts)), sort_key),
    )


def filter_mask(facts: ItemFacts, request: SearchRequest) -> np.ndarray:
    """Which of `facts` satisfy every non-spatial criterion of `request`."""
    mask = np.ones(len(facts), dtype=bool)
    intervals: list[tuple[str, Interval[int] | Interval[float]]] = [*request.instants, *request.numbers]
    for name, interval in intervals:
        values = facts.numeric(name)
        mask &= interval.mask(values) if values is not None else False
    for name, wanted in request.categories:
        codes, vocabulary = facts.categorical(name) or (None, {})
        if codes is None:
            mask[:] = False
            continue
        mask &= np.isin(codes, [vocabulary[w] for w in wanted if w in vocabulary])
    if request.q:
        any_group = np.zeros(len(facts), dtype=bool)
        for tokens in request.q:
            group = np.ones(len(facts), dtype=bool)
            for token in tokens:
                group &= _token_mask(facts, token)
            any_group |= group
        mask &= any_group
    if request.texts and mask.any():
        # identifiers are strings built per item: only look at items that passed everything else
        survivors = np.nonzero(mask)[0]
        subset = facts.subset(survivors)
        keep = np.ones(len(survivors), dtype=bool)
        for name, wanted in request.texts:
            texts = subset.text(name)
            keep &= np.array([v in wanted for v in texts], dtype=bool) if texts is not None else False
        mask[survivors[~keep]] = False
    return mask


def _token_mask(facts: ItemFacts, token: str) -> np.ndarray:
    result = np.zeros(len(facts), dtype=bool)
    for name in ("constellation", "platform", "processingLevel", "productType", "productionStatus",
                 "sensorType", "spectralRange"):  # fmt: skip
        codes, vocabulary = facts.categorical(name) or (None, {})
        if codes is not None and token in vocabulary:
            result |= codes == vocabulary[token]
    return result


def sort_order(facts: ItemFacts | SortableFacts, request: SearchRequest, limit: int) -> np.ndarray:
    """Indices of the first `limit` items of `facts` in the requested order (exact, ties by key)."""
    n = len(facts)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    keys = [facts.keys]  # last resort: a stable, unique tiebreak
    for field, descending in reversed(request.sort):
        values = facts.numeric(field)
        if values is None:
            raise SearchError(f"{field} is not a sortable property")
        keys.append(-values if descending else values)
    if n > 2 * limit:
        primary = keys[-1]
        kth = np.partition(primary, limit - 1)[limit - 1]
        candidates = np.nonzero(primary <= kth)[0]
        order = candidates[np.lexsort([k[candidates] for k in keys])]
        return order[:limit]
    return np.lexsort(keys)[:limit]


@dataclass(frozen=True)
class SearchHits:
    """The reachable window of a query: public items (view positions) and delivered copies, in order."""

    total: int
    source: np.ndarray  # 0: public catalog item, 1: delivered copy
    index: np.ndarray  # view position, or index into the delivered items


class SearchEngine:
    """Evaluates opensearch requests against a view, caching sorted result windows."""

    def __init__(self, view: View, *, cache_size: int = 64) -> None:
        self.view = view
        self._cache: OrderedDict[tuple[Any, ...], SearchHits] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def public_positions(self, request: SearchRequest) -> np.ndarray:
        """View positions that pass the spatial criteria and the id list."""
        world = self.view.world
        positions: np.ndarray | None = None
        for geometry in request.geometries:
            if request.relation == "disjoint":
                hits = world.rows_intersecting(geometry, "intersects")
                rows = np.setdiff1d(self.view.rows, hits, assume_unique=True)
            else:
                predicate = _INVERSE_PREDICATES[request.relation]
                rows = world.rows_intersecting(geometry, predicate)
                rows = rows[self.view.contains(rows)]
            found = self.view.position(rows)
            positions = found if positions is None else np.intersect1d(positions, found, assume_unique=True)
        if request.ids is not None:
            wanted = [world.row_of_item_id(i) for i in request.ids]
            rows = np.array(sorted({r for r in wanted if r is not None}), dtype=np.int64)
            rows = rows[self.view.contains(rows)] if len(rows) else rows
            found = self.view.position(rows)
            positions = found if positions is None else np.intersect1d(positions, found)
        return np.arange(len(self.view)) if positions is None else positions

    def hits(
        self,
        request: SearchRequest,
        now_ns: int,
        delivered: Callable[[], tuple[int, DeliveredFacts | None]],
    ) -> SearchHits:
        """The first RESULT_WINDOW hits of `request` at `now_ns`, public and delivered together."""
        revision, delivered_facts = delivered()
        cache_key = (request.cache_key, self.view.epoch(now_ns), revision)
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
        state = self.view.state(now_ns)
        positions = self.public_positions(request)
        positions = positions[state.visible[positions]]
        facts = ItemFacts.at(self.view, state, positions)
        mask = filter_mask(facts, request)
        passing = facts.subset(np.nonzero(mask)[0])
        total = len(passing)
        order = sort_order(passing, request, RESULT_WINDOW)
        top = passing.subset(order)
        source = np.zeros(len(top), dtype=np.int8)
        index = top.positions
        if delivered_facts is not None and len(delivered_facts):
            extra_mask = filter_mask(delivered_facts, request)
            if request.ids is not None:
                extra_mask &= np.isin(np.array(delivered_facts.item_ids, dtype=object), list(request.ids))
            if request.geometries:
                extra_mask &= delivered_facts.spatial_mask(request.geometries, request.relation)
            extra = np.nonzero(extra_mask)[0]
            if len(extra):
                total += len(extra)
                both = top.concat(delivered_facts.subset(extra))
                order = sort_order(both, request, RESULT_WINDOW)
                source = np.concatenate([source, np.ones(len(extra), dtype=np.int8)])[order]
                index = np.concatenate([index, extra])[order]
        result = SearchHits(total=total, source=source, index=index)
        with self._lock:
            self._cache[cache_key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result
