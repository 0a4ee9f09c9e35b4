"""OneAtlas catalog items as JSON text, in the shape of seed 001, fast enough for 500-item pages.

Features are assembled from string pieces rather than dicts: a search page of 500 items must
render in a few milliseconds so that the sandbox is never what a benchmark measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import orjson

from harvest.sandbox.oneatlas.items import CONSTELLATIONS, WORKSPACES, ItemFacts
from harvest.sandbox.world.geometry import wrap_lon
from harvest.sandbox.world.ids import hashed_uuids
from harvest.sandbox.world.sensors import SENSORS

_PLATFORM = [s.platform for s in SENSORS]
_CONSTELLATION_NAME = {v: k for k, v in CONSTELLATIONS.items()}
_PROCESSORS = {"PHR": "IPU V_05_03", "PNEO": "SPICYv1.2.9", "SPOT": "IMFv6"}
_CENTRES = {"PHR": "FCMUGC", "PNEO": "AOC", "SPOT": "MOC"}
_BROWSE_PRIVILEGE = "115b0732-c2ec-499b-b2b3-63b8043c4a43"
_SUBSCRIPTION = "60166425-86af-44ef-81b4-c626d5d46244"
_USER = "5aea35c3-ca12-4c55-b455-2df467b87de1"
_VIEW_PRIVILEGE = "a4746d2a-7ef2-48c1-9c98-ccbe939a242b"
_SALTS = {"activity": 0xA5, "correlation": 0xC0, "pan": 0x9A, "ms": 0x35, "pack": 0x9C}


def _iso(ns: np.ndarray, unit: Literal["ms", "ns"]) -> list[str]:
    return np.datetime_as_string(ns.astype("datetime64[ns]"), unit=unit).tolist()


@lru_cache(maxsize=64)
def _rights(workspace_name: str, workspace_id: str, *, owner: bool) -> str:
    """The `rights` block: browse/wms/wmts on public items, browse/create/delete on owned ones."""
    created = '"createdAt":"2018-08-29T15:14:29.581647813Z"'
    who = f'"subscriptionId":"{_SUBSCRIPTION}","userId":"{_USER}"'
    scope = f'"filter":{{"workspace":"{workspace_name}","workspaceId":"{workspace_id}"}}'
    browse = f'{{"privileges":[{{{created},"id":"{_BROWSE_PRIVILEGE}","rights":{{"browse":{{}}}},{who},{scope}}}]}}'
    view = (
        f'{{"privileges":[{{{created},"id":"{_VIEW_PRIVILEGE}","rights":{{"wms":{{}},"wmts":{{}}}},{who},{scope}}}]}}'
    )
    if owner:
        return f'{{"browse":{browse},"create":{browse},"delete":{browse}}}'
    return f'{{"browse":{browse},"wms":{view},"wmts":{view}}}'


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".")


def _nanos(ns: np.ndarray) -> list[str]:
    """Go's RFC3339Nano, as OneAtlas writes lastUpdateDate: trailing zeros trimmed."""
    texts = _iso(ns, "ns")  # 29 characters: seconds, a dot and nine digits
    fraction = ns % 1_000_000_000
    zeros = np.zeros(len(ns), dtype=np.int64)
    for power in range(1, 10):
        zeros += fraction % (10**power) == 0
    # nine trailing zeros: drop the dot too
    keep = (29 - zeros - (zeros == 9)).tolist()
    return [t[:k] + "Z" for t, k in zip(texts, keep, strict=True)]


_N_NUMBERS = 19


@dataclass
class Override:
    """How a delivered copy in a private workspace differs from the public item it came from."""

    item_id: str
    workspace: tuple[str, str, str]  # name, id, title
    published_ns: int
    geometry_json: str  # the footprint clipped to the ordered AOI
    extra_properties: dict[str, object] = field(default_factory=dict)
    download_links: list[dict[str, object]] = field(default_factory=list)
    processing_level: str = "SENSOR"
    product_type: str = "bundle"


class FeatureRenderer:
    """Renders ItemFacts into feature JSON text with links pointing back into the sandbox."""

    def __init__(self, base_url: str, seed: int) -> None:
        self.search = f"{base_url}/oneatlas/search"
        self.access = f"{base_url}/oneatlas/access"
        self.seed = seed

    def render(self, facts: ItemFacts, ids: list[str], overrides: Sequence[Override | None] | None = None) -> list[str]:
        n = len(facts)
        if n == 0:
            return []
        keys = facts.keys
        salted = {name: hashed_uuids(keys, (self.seed << 8) ^ salt) for name, salt in _SALTS.items()}
        acquired_ms = facts.acquired_ms_text
        archive, sources, acquisition_ids, stations = facts.identifiers
        published = _nanos(facts.published_ns)
        updated = _nanos(facts.last_update_ns)
        expires = _nanos(facts.expiration_ns)
        processed = _iso(facts.processing_ns, "ms")
        acq = facts.view.world.acq
        rows = facts.rows
        corners = acq.corners[rows]
        numbers = np.empty((n, _N_NUMBERS), dtype=np.float64)
        numbers[:, 0:8:2] = np.round(wrap_lon(corners[..., 0]), 10)
        numbers[:, 1:8:2] = corners[..., 1].round(10)
        numbers[:, 8] = acq.lat[rows].round(10)
        numbers[:, 9] = acq.lon[rows].round(10)
        numbers[:, 10] = np.round(acq.azimuth[rows].astype(np.float64), 6)
        numbers[:, 11] = facts.cloud
        numbers[:, 12] = np.round(acq.sun_azimuth[rows].astype(np.float64), 6)
        numbers[:, 13] = np.round(acq.sun_elevation[rows].astype(np.float64), 6)
        numbers[:, 14] = facts.incidence
        numbers[:, 15] = np.round(acq.incidence_across[rows].astype(np.float64), 6)
        numbers[:, 16] = np.round(acq.incidence_along[rows].astype(np.float64), 6)
        numbers[:, 17] = facts.resolution
        numbers[:, 18] = facts.snow
        # one C call formats every number of the page (repr per float would dominate the cost)
        text = orjson.dumps(numbers, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        f = text.replace("[", "").replace("]", "").split(",")
        constellation = [_CONSTELLATION_NAME[c] for c in facts.constellation_code.tolist()]
        platforms = [_PLATFORM[c] for c in facts.sensor.tolist()]
        album = facts.album.tolist()
        noise = facts.noise.tolist()
        workspace = facts.workspace_code.tolist()
        activity, correlation, pack, pan = salted["activity"], salted["correlation"], salted["pack"], salted["pan"]
        out: list[str] = []
        for i in range(n):
            override = overrides[i] if overrides else None
            item_id = ids[i]
            const = constellation[i]
            k = i * _N_NUMBERS
            t = acquired_ms[i]
            ds, source = archive[i], sources[i]
            if const == "SPOT":
                processing = f"{processed[i]}Z"
            elif const == "PHR":
                processing = processed[i]  # PHR processingDate carries no zone, as in the spec example
            else:
                processing = _trim(processed[i]) + "Z"
            is_album = album[i] and override is None
            if override is not None:
                ws_name, ws_id, ws_title = override.workspace
                geometry = override.geometry_json
                level, product_type, status = override.processing_level, override.product_type, "IN_CLOUD"
                pub = updated_text = _nanos(np.array([override.published_ns]))[0]
            else:
                ws_name, ws_id, ws_title = WORKSPACES[workspace[i]]
                geometry = (
                    f'{{"type":"Polygon","coordinates":[[[{f[k]},{f[k + 1]}],[{f[k + 2]},{f[k + 3]}],'
                    f"[{f[k + 4]},{f[k + 5]}],[{f[k + 6]},{f[k + 7]}],[{f[k]},{f[k + 1]}]]]}}"
                )
                level = "ALBUM" if is_album else "SENSOR"
                product_type = "mono" if is_album else "bundle"
                status = "ARCHIVED" if is_album else "IN_CLOUD"
                pub = published[i]
                updated_text = updated[i]
            commercial = "" if override is not None else f'"commercialReference":"SO{noise[i] % 100000000:08d}",'
            extra = ""
            if override is not None and override.extra_properties:
                extra = orjson.dumps(override.extra_properties).decode()[1:-1] + ","
            props = (
                f'"acquisitionDate":"{t}Z","acquisitionIdentifier":"{acquisition_ids[i]}",'
                f'"acquisitionStation":"{stations[i]}","activityId":"{activity[i]}",'
                f'"archiveAnonymousIdentifier":"{noise[i] % 100000000}","archiveIdentifier":"{ds}",'
                f'"archivingCenter":"FR1","azimuthAngle":{f[k + 10]},"cloudCover":{f[k + 11]},{commercial}'
                f'"constellation":"{const}","correlationId":"{correlation[i]}",'
                f'"expirationDate":"{expires[i]}","format":"{"image/tiff" if is_album else "image/jp2"}",'
                f'"geometryCentroid":{{"lat":{f[k + 8]},"lon":{f[k + 9]}}},"id":"{item_id}",'
                f'"illuminationAzimuthAngle":{f[k + 12]},"illuminationElevationAngle":{f[k + 13]},'
                f'"incidenceAngle":{f[k + 14]},"incidenceAngleAcrossTrack":{f[k + 15]},'
                f'"incidenceAngleAlongTrack":{f[k + 16]},"lastUpdateDate":"{updated_text}",'
                f'"organisationName":"AIRBUS DS GEO","parentIdentifier":"{ds}","platform":"{platforms[i]}",'
                f'"processingCenter":"{_CENTRES[const]}","processingDate":"{processing}",'
                f'"processingLevel":"{level}","processorName":"{"MMCAT" if is_album else _PROCESSORS[const]}",'
                f'"productCategory":"image","productType":"{product_type}","productionStatus":"{status}",'
                f'"publicationDate":"{pub}","qualified":false,"resolution":{f[k + 17]},'
                f'"sensorType":"OPTICAL","snowCover":{f[k + 18]},"sourceIdentifier":"{source}",'
                f'"spectralRange":"VISIBLE","title":"{"" if const == "SPOT" else source}",{extra}'
                f'"workspaceId":"{ws_id}","workspaceName":"{ws_name}","workspaceTitle":"{ws_title}"'
            )
            out.append(
                f'{{"type":"Feature","geometry":{geometry},"properties":{{{props}}},'
                f'"_links":{self._links(item_id, salted, i, is_album, const, override)},'
                f'"rights":{_rights(ws_name, ws_id, owner=override is not None)},'
                f'"dataAccess":{{"metadata":"{self.access}/api/v1/packs/{pack[i]}","resourceId":"{pack[i]}",'
                f'"packImages":[{{"href":"{self.access}/api/v1/packs/{pack[i]}/images/{pan[i]}",'
                f'"name":"panchromatic","resourceId":"{pan[i]}"}}]}}}}'
            )
        return out

    def _links(
        self, item_id: str, salted: dict[str, list[str]], i: int, album: bool, const: str, override: Override | None
    ) -> str:
        item = f"{self.access}/api/v1/items/{item_id}"
        head = (
            f'"delete":{{"href":"{self.search}/api/v1/items/{item_id}","name":"Delete","type":"HTTP"}},'
            f'"quicklook":{{"href":"{item}/quicklook","name":"QuickLook","type":"HTTP"}},'
            f'"self":{{"href":"{self.search}/api/v1/opensearch?id={item_id}","method":"GET","name":"self",'
            f'"resourceId":"{item_id}"}},'
            f'"thumbnail":{{"href":"{item}/thumbnail","name":"Thumbnail","type":"HTTP"}},'
            f'"metadata":{{"href":"{item}/metadata","name":"Metadata","type":"HTTP"}}'
        )
        download = ""
        if override is not None and override.download_links:
            download = ',"download":' + orjson.dumps(override.download_links).decode()
        if album:
            # ALBUM items: only quicklook and thumbnail are useful (docs/providers.md#oneatlas-in-the-sandbox)
            return "{" + head + download + "}"
        pan = salted["pan"][i]
        a = f"{item}/images/{pan}/"
        tail = (
            f'"monitor":{{"href":"{self.access}/api/v1/activities/{salted["activity"][i]}",'
            f'"name":"Monitor","type":"HTTP"}},'
            f'"wms":{{"href":"{item}/wms","name":"WMS","type":"WMS"}},'
            f'"wmts":{{"href":"{item}/wmts","name":"WMTS","type":"WMTS"}}'
        )
        pan_id = f'"resourceId":"{pan}"}}'
        if const == "SPOT":
            # a single image: each images* link is one object
            images = (
                f'"imagesGetBuffer":{{"href":"{a}buffer","type":"getBuffer",{pan_id},'
                f'"imagesMetadata":{{"href":"{a}metadata","type":"application/geo+json",{pan_id},'
                f'"imagesWcs":{{"href":"{a}wcs","type":"WCS",{pan_id},'
                f'"imagesWms":{{"href":"{a}wms","type":"WMS",{pan_id},'
                f'"imagesWmts":{{"href":"{a}wmts","type":"WMTS",{pan_id}'
            )
        else:
            # PHR and PNEO bundles: a panchromatic and a multispectral image, so images* are lists
            ms = salted["ms"][i]
            b = f"{item}/images/{ms}/"
            ms_id = f'"resourceId":"{ms}"}}'
            p, m = '"name":"panchromatic",', '"name":"multispectral",'
            images = (
                f'"imagesGetBuffer":[{{"href":"{a}buffer",{p}"type":"getBuffer",{pan_id},'
                f'{{"href":"{b}buffer",{m}"type":"getBuffer",{ms_id}],'
                f'"imagesMetadata":[{{"href":"{a}metadata",{p}"type":"application/geo+json",{pan_id},'
                f'{{"href":"{b}metadata",{m}"type":"application/geo+json",{ms_id}],'
                f'"imagesWcs":[{{"href":"{a}wcs",{p}"type":"WCS",{pan_id},{{"href":"{b}wcs",{m}"type":"WCS",{ms_id}],'
                f'"imagesWms":[{{"href":"{a}wms",{p}"type":"WMS",{pan_id},{{"href":"{b}wms",{m}"type":"WMS",{ms_id}],'
                f'"imagesWmts":[{{"href":"{a}wmts",{p}"type":"WMTS",{pan_id},{{"href":"{b}wmts",{m}"type":"WMTS",{ms_id}]'
            )
        return "{" + head + "," + images + "," + tail + download + "}"
