"""What a OneAtlas catalog item says about a world row, computed for many rows at once.

Search filters, sort keys and the rendered JSON all read these arrays, so an item can never be
found by one value and shown with another.
"""

from __future__ import annotations

from functools import cached_property
from typing import Self

import numpy as np

from harvest.sandbox import textarrays
from harvest.sandbox.world.sensors import SENSORS
from harvest.sandbox.world.world import SceneState, View
from harvest.timestamps import NS_PER_S

PUBLIC_WORKSPACE_ID = "0e33eb50-3404-48ad-b835-b0b4b72a5625"
PUBLIC_PNEO_WORKSPACE_ID = "b2d2b9e9-38b5-4c4d-9a21-b0e5b9a1c0f4"
WORKSPACES = (("public", PUBLIC_WORKSPACE_ID, "Public"), ("public-pneo", PUBLIC_PNEO_WORKSPACE_ID, "Public PNEO"))

_TEN_YEARS_NS = 3652 * 86_400 * NS_PER_S

# categorical vocabularies: value -> code
CONSTELLATIONS = {"PHR": 0, "PNEO": 1, "SPOT": 2}
PLATFORMS = {s.platform: s.code for s in SENSORS if s.constellation in CONSTELLATIONS}
PROCESSING_LEVELS = {"SENSOR": 0, "ALBUM": 1, "ORTHO": 2}
PRODUCTION_STATUSES = {"IN_CLOUD": 0, "ARCHIVED": 1}
PRODUCT_TYPES = {"bundle": 0, "mono": 1, "pansharpened": 2, "panchromatic": 3, "multispectral": 4}
SENSOR_TYPES = {"OPTICAL": 0}
SPECTRAL_RANGES = {"VISIBLE": 0}
WORKSPACE_CODES = {"public": 0, PUBLIC_WORKSPACE_ID: 0, "public-pneo": 1, PUBLIC_PNEO_WORKSPACE_ID: 1}

_SENSOR_CONSTELLATION = np.array([CONSTELLATIONS.get(s.constellation, -1) for s in SENSORS], dtype=np.int8)
_SENSOR_RESOLUTION = np.array([s.gsd_m for s in SENSORS])
_PLATFORM_CODES = [s.platform if len(s.platform) == 5 else "?????" for s in SENSORS]  # Airbus: 5 letters
_STATIONS = ("FR1", "SV1", "KIR", "FR1", "TWN", "FR1")
RESOLUTION_BY_CONSTELLATION = {"PHR": 0.5, "PNEO": 0.3, "SPOT": 1.5}


class ItemFacts:
    """OneAtlas item properties for `positions` of a view, in the state of one instant."""

    def __init__(
        self,
        view: View,
        positions: np.ndarray,
        version: np.ndarray,
        last_update_ns: np.ndarray,
        published_ns: np.ndarray | None = None,
    ) -> None:
        self.view = view
        self.positions = positions
        self.rows = view.rows[positions]
        self._acq = view.world.acq
        self.version = version
        self.last_update_ns = last_update_ns
        if published_ns is not None:
            self.published_ns = published_ns

    @classmethod
    def at(cls, view: View, state: SceneState, positions: np.ndarray) -> ItemFacts:
        """Facts of public catalog items in the state of one instant."""
        return cls(view, positions, state.version[positions], state.last_update_ns[positions])

    def __len__(self) -> int:
        return len(self.positions)

    @cached_property
    def keys(self) -> np.ndarray:
        return self._acq.key[self.rows]

    @cached_property
    def sensor(self) -> np.ndarray:
        return self._acq.sensor[self.rows]

    @cached_property
    def noise(self) -> np.ndarray:
        return self._acq.noise[self.rows].astype(np.int64)

    @cached_property
    def acquired_ns(self) -> np.ndarray:
        return self._acq.acquired_ns[self.rows]

    @cached_property
    def published_ns(self) -> np.ndarray:  # replaced by an instance attribute for delivered copies
        return self._acq.published_ns[self.rows]

    @cached_property
    def acquired_ms_array(self) -> np.ndarray:
        """ISO text to the millisecond, without zone, as a fixed-width numpy str array."""
        return np.datetime_as_string(self.acquired_ns.astype("datetime64[ns]"), unit="ms")

    @cached_property
    def acquired_ms_text(self) -> list[str]:
        return self.acquired_ms_array.tolist()

    @cached_property
    def identifiers(self) -> tuple[list[str], list[str], list[str], list[str]]:
        """(archiveIdentifier, sourceIdentifier, acquisitionIdentifier, acquisitionStation) per item.

        DS_<platform>_<YYYYMMDDhhmmss + tenths>_<station>..._<E|W><lon><N|S><lat>_<numbers>, as in
        seed 001; built column-wise (every Airbus platform name has five characters).
        """
        n = len(self)
        if n == 0:
            return [], [], [], []
        noise = self.noise
        time = textarrays.codes(self.acquired_ms_array)  # YYYY-MM-DDThh:mm:ss.sss
        stamp = time[:, [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20]]
        platform = textarrays.choose(self.sensor, _PLATFORM_CODES)
        station_index = noise % len(_STATIONS)
        station = textarrays.choose(station_index, list(_STATIONS))
        lon = self._acq.lon[self.rows]
        lat = self._acq.lat[self.rows]
        cell = np.concatenate(
            [
                textarrays.choose((lon < 0).astype(np.int64), ["E", "W"]),
                textarrays.digits(np.abs(lon).astype(np.int64), 3),
                textarrays.choose((lat < 0).astype(np.int64), ["N", "S"]),
                textarrays.digits(np.abs(lat).astype(np.int64), 2),
            ],
            axis=1,
        )
        underscore = textarrays.literal("_", n)
        spot = textarrays.texts(
            textarrays.literal("DS_", n), platform, underscore, stamp, underscore, station, underscore, station,
            underscore, station, underscore, station, underscore, cell, underscore, textarrays.digits(noise, 5),
        )  # fmt: skip
        others = textarrays.texts(
            textarrays.literal("DS_", n), platform, underscore, stamp, underscore, station,
            textarrays.literal("_PX_", n), cell, underscore, textarrays.digits(noise, 4), underscore,
            textarrays.digits(noise // 7, 5),
        )  # fmt: skip
        pneo_source = textarrays.texts(
            platform, underscore, time[:, [0, 1, 2, 3, 5, 6, 8, 9]], textarrays.literal("T", n),
            time[:, [11, 12, 14, 15, 17, 18]], textarrays.literal("_BUNDLE-FS_PRIMARY", n),
        )  # fmt: skip
        pneo_acquisition = textarrays.texts(
            textarrays.literal("ACQ_", n), platform, underscore, textarrays.digits(noise, 14)
        )
        constellation = self.constellation_code.tolist()
        spot_code, pneo_code = CONSTELLATIONS["SPOT"], CONSTELLATIONS["PNEO"]
        archive = [s if c == spot_code else o for c, s, o in zip(constellation, spot, others, strict=True)]
        source = [p if c == pneo_code else a for c, p, a in zip(constellation, pneo_source, archive, strict=True)]
        acquisition = [q if c == pneo_code else "" for c, q in zip(constellation, pneo_acquisition, strict=True)]
        return archive, source, acquisition, [_STATIONS[i] for i in station_index.tolist()]

    def text(self, name: str) -> list[str] | None:
        """Values of an identifier property by its OneAtlas name (None if not an identifier)."""
        archive, source, acquisition, _ = self.identifiers
        match name:
            case "archiveIdentifier" | "parentIdentifier":
                return archive
            case "sourceIdentifier":
                return source
            case "acquisitionIdentifier":
                return acquisition
        return None

    @cached_property
    def processing_ns(self) -> np.ndarray:
        # processed a few minutes before publication (to the millisecond)
        offset = (60 + self.noise % 600) * NS_PER_S + (self.noise % 997) * 1_000_000
        return (self.published_ns - offset) // 1_000_000 * 1_000_000

    @cached_property
    def expiration_ns(self) -> np.ndarray:
        return self.published_ns + _TEN_YEARS_NS - (self.noise % 50_000) * NS_PER_S

    @cached_property
    def album(self) -> np.ndarray:
        """Archive warm-up items stay ALBUM/ARCHIVED until their first re-publication."""
        return self._acq.album[self.rows] & (self.version == 0)

    @cached_property
    def cloud(self) -> np.ndarray:
        # each re-publication re-estimates the cloud cover a little
        base = self._acq.cloud[self.rows].astype(np.float64)
        drift = ((self.noise >> 8) % 101 - 50) / 25.0
        return np.round(np.clip(base + drift * self.version, 0.0, 100.0), 4)

    @cached_property
    def snow(self) -> np.ndarray:
        return np.round(self._acq.snow[self.rows].astype(np.float64), 4)

    @cached_property
    def incidence(self) -> np.ndarray:
        return np.round(self._acq.incidence[self.rows].astype(np.float64), 6)

    @cached_property
    def resolution(self) -> np.ndarray:
        return _SENSOR_RESOLUTION[self.sensor]

    # categorical codes, matching the vocabularies above
    @cached_property
    def constellation_code(self) -> np.ndarray:
        return _SENSOR_CONSTELLATION[self.sensor]

    @cached_property
    def processing_level_code(self) -> np.ndarray:
        return self.album.astype(np.int8)

    @cached_property
    def workspace_code(self) -> np.ndarray:
        return (self.constellation_code == CONSTELLATIONS["PNEO"]).astype(np.int8)

    def numeric(self, name: str) -> np.ndarray | None:
        """Values of a numeric or date property by its OneAtlas name (None if not numeric)."""
        acq = self._acq
        match name:
            case "acquisitionDate" | "startDate" | "meanDate":
                return self.acquired_ns
            case "publicationDate":
                return self.published_ns
            case "lastUpdateDate":
                return self.last_update_ns
            case "processingDate":
                return self.processing_ns
            case "expirationDate":
                return self.expiration_ns
            case "cloudCover":
                return self.cloud
            case "snowCover":
                return self.snow
            case "incidenceAngle":
                return self.incidence
            case "incidenceAngleAcrossTrack":
                return acq.incidence_across[self.rows].astype(np.float64)
            case "incidenceAngleAlongTrack":
                return acq.incidence_along[self.rows].astype(np.float64)
            case "azimuthAngle":
                return acq.azimuth[self.rows].astype(np.float64)
            case "illuminationAzimuthAngle":
                return acq.sun_azimuth[self.rows].astype(np.float64)
            case "illuminationElevationAngle":
                return acq.sun_elevation[self.rows].astype(np.float64)
            case "resolution":
                return self.resolution
        return None

    def categorical(self, name: str) -> tuple[np.ndarray, dict[str, int]] | None:
        """(codes, vocabulary) of a categorical property by its OneAtlas name."""
        match name:
            case "constellation":
                return self.constellation_code, CONSTELLATIONS
            case "platform":
                return self.sensor, PLATFORMS
            case "processingLevel":
                return self.processing_level_code, PROCESSING_LEVELS
            case "productionStatus":
                return self.album.astype(np.int8), PRODUCTION_STATUSES
            case "productType":
                return self.album.astype(np.int8), PRODUCT_TYPES
            case "sensorType":
                return np.zeros(len(self), dtype=np.int8), SENSOR_TYPES
            case "spectralRange":
                return np.zeros(len(self), dtype=np.int8), SPECTRAL_RANGES
            case "workspace":
                return self.workspace_code, WORKSPACE_CODES
        return None

    def subset(self, index: np.ndarray) -> Self:
        """The same facts for some of the items, in the order of `index`."""
        published = self.__dict__.get("published_ns")
        return type(self)._from_parts(self, index, None if published is None else published[index])

    @classmethod
    def _from_parts(cls, source: Self, index: np.ndarray, published: np.ndarray | None) -> Self:
        return cls(source.view, source.positions[index], source.version[index], source.last_update_ns[index], published)

    def concat(self, other: ItemFacts) -> SortableFacts:
        """Sort keys of two fact sets, one after the other (for merging result lists)."""
        return SortableFacts(self, other)


class SortableFacts:
    """Just enough of two ItemFacts, concatenated, to sort them together."""

    def __init__(self, first: ItemFacts, second: ItemFacts) -> None:
        self._parts = (first, second)
        self.keys = np.concatenate([first.keys, second.keys])

    def __len__(self) -> int:
        return len(self.keys)

    def numeric(self, name: str) -> np.ndarray | None:
        values = [part.numeric(name) for part in self._parts]
        present = [v for v in values if v is not None]
        return np.concatenate(present) if len(present) == len(values) else None
