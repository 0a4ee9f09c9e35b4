"""Provider footprints into catalog geometries: repair, orientation, and cutting at the antimeridian."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import shapely

from harvest.catalog.footprints import (
    InvalidFootprint,
    antimeridian_crossings,
    crosses_antimeridian,
    footprint_from_geojson,
    footprints_from_geojson,
    footprints_to_wkb,
    normalize_footprints,
)


def polygon(*rings: Sequence[Sequence[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(point) for point in ring] for ring in rings]}


FIJI_FOLDED = polygon([(179.5, -17), (-179.7, -17), (-179.7, -16), (179.5, -16), (179.5, -17)])
FIJI_CONTINUOUS = polygon([(179.5, -17), (180.3, -17), (180.3, -16), (179.5, -16), (179.5, -17)])


def longitudes(geometry: shapely.Geometry) -> np.ndarray:
    return shapely.get_coordinates(geometry)[:, 0]


def all_rings_follow_rfc7946(geometry: shapely.Geometry) -> bool:
    for part in shapely.get_parts(geometry):
        if not part.exterior.is_ccw or any(ring.is_ccw for ring in part.interiors):
            return False
    return True


def test_an_ordinary_polygon_passes_through_unchanged() -> None:
    ring = [(1.0, 43.0), (2.0, 43.0), (2.0, 44.0), (1.0, 44.0), (1.0, 43.0)]
    footprint = footprint_from_geojson(polygon(ring))
    assert footprint.geom_type == "Polygon"
    assert shapely.get_coordinates(footprint).tolist() == [list(point) for point in ring]


def test_clockwise_rings_are_made_counterclockwise_with_clockwise_holes() -> None:
    shell = [(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]  # clockwise
    hole = [(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]  # counter-clockwise
    for geometry in (polygon(shell), polygon(shell, hole)):
        footprint = footprint_from_geojson(geometry)
        assert all_rings_follow_rfc7946(footprint)
    assert footprint_from_geojson(polygon(shell, hole)).area == pytest.approx(96)


def test_self_intersecting_rings_are_repaired_into_polygons_only() -> None:
    bowtie = polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    footprint = footprint_from_geojson(bowtie)
    assert footprint.is_valid and footprint.geom_type == "MultiPolygon"
    assert footprint.area == pytest.approx(2.0)
    collection = {
        "type": "GeometryCollection",
        "geometries": [
            polygon([(0, 0), (1, 0), (1, 1), (0, 0)]),
            {"type": "LineString", "coordinates": [[5, 5], [6, 6]]},
        ],
    }
    assert footprint_from_geojson(collection).geom_type == "Polygon"


@pytest.mark.parametrize("geometry", [FIJI_FOLDED, FIJI_CONTINUOUS], ids=["folded", "continuous"])
def test_a_ring_across_the_antimeridian_is_cut_into_a_multipolygon_inside_180(geometry: dict[str, Any]) -> None:
    assert crosses_antimeridian(shapely.geometry.shape(geometry))
    footprint = footprint_from_geojson(geometry)
    assert footprint.geom_type == "MultiPolygon" and footprint.is_valid
    assert longitudes(footprint).min() == -180.0 and longitudes(footprint).max() == 180.0
    assert isinstance(footprint, shapely.MultiPolygon)
    east, west = sorted(footprint.geoms, key=lambda part: -part.bounds[0])
    assert east.bounds == (179.5, -17.0, 180.0, -16.0)
    assert west.bounds == pytest.approx((-180.0, -17.0, -179.7, -16.0))
    assert footprint.area == pytest.approx(0.8)
    assert all_rings_follow_rfc7946(footprint)
    assert not crosses_antimeridian(footprint)


def test_a_footprint_entirely_beyond_180_is_folded_back() -> None:
    footprint = footprint_from_geojson(polygon([(181, -17), (182, -17), (182, -16), (181, -16), (181, -17)]))
    assert footprint.geom_type == "Polygon" and footprint.bounds == (-179.0, -17.0, -178.0, -16.0)


def test_a_hole_across_the_antimeridian_is_cut_with_its_shell() -> None:
    shell = [(178, -20), (-178, -20), (-178, -10), (178, -10), (178, -20)]
    hole = [(179, -19), (179, -11), (-179, -11), (-179, -19), (179, -19)]
    footprint = footprint_from_geojson(polygon(shell, hole))
    assert footprint.geom_type == "MultiPolygon" and footprint.is_valid
    assert footprint.area == pytest.approx(4 * 10 - 2 * 8)
    assert isinstance(footprint, shapely.MultiPolygon)
    assert all(len(part.interiors) == 0 for part in footprint.geoms)  # the hole is cut open on both sides
    assert longitudes(footprint).min() >= -180 and longitudes(footprint).max() <= 180


def test_a_ring_around_a_pole_is_closed_over_it() -> None:
    ring = [(-170 + 40 * i - (360 if -170 + 40 * i > 180 else 0), 80.0) for i in range(9)] + [(-170.0, 80.0)]
    footprint = footprint_from_geojson(polygon(ring))
    assert footprint.is_valid
    assert footprint.bounds == (-180.0, 80.0, 180.0, 90.0)


def test_footprints_already_cut_at_the_antimeridian_are_kept() -> None:
    cut = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[179.5, -17], [180, -17], [180, -16], [179.5, -16], [179.5, -17]]],
            [[[-180, -17], [-179.7, -17], [-179.7, -16], [-180, -16], [-180, -17]]],
        ],
    }
    assert not crosses_antimeridian(shapely.geometry.shape(cut))
    assert footprint_from_geojson(cut).equals(shapely.geometry.shape(cut))


def test_crosses_antimeridian_works_on_arrays() -> None:
    geometries = [shapely.geometry.shape(FIJI_FOLDED), shapely.box(0, 0, 1, 1), None, shapely.box(170, 0, 190, 1)]
    assert antimeridian_crossings(geometries).tolist() == [True, False, False, True]


def test_features_z_coordinates_and_unclosed_rings_are_accepted() -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": polygon([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)])}
    assert footprint_from_geojson(feature).area == 1
    with_z = polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 1, 5), (0, 0, 5)])
    assert not footprint_from_geojson(with_z).has_z
    unclosed = polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    assert footprint_from_geojson(unclosed).area == 1


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 89], [1, 89], [1, 91], [0, 91], [0, 89]]]},
        {"type": "Nonsense"},
        {"no": "type"},
    ],
    ids=["line", "no-rings", "zero-area", "beyond-the-pole", "unknown-type", "not-geojson"],
)
def test_unusable_footprints_are_refused(geometry: dict[str, Any]) -> None:
    with pytest.raises(InvalidFootprint):
        footprint_from_geojson(geometry)
    assert footprints_from_geojson([geometry, FIJI_FOLDED])[0] is None


def test_the_batch_path_agrees_with_one_at_a_time() -> None:
    inputs = [
        polygon([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]),
        FIJI_FOLDED,
        polygon([(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]),
        {"type": "MultiPolygon", "coordinates": [[[[5, 5], [6, 5], [6, 6], [5, 5]]]]},
        polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 0, 1)]),
        {"type": "Point", "coordinates": [0, 0]},
    ]
    batch = footprints_from_geojson(inputs)
    for item, footprint in zip(inputs, batch, strict=True):
        if footprint is None:
            with pytest.raises(InvalidFootprint):
                footprint_from_geojson(item)
        else:
            assert footprint.equals_exact(footprint_from_geojson(item), 0)


def test_normalize_footprints_accepts_shapely_geometries() -> None:
    [footprint] = normalize_footprints([shapely.geometry.shape(FIJI_FOLDED)])
    assert footprint.geom_type == "MultiPolygon"


def test_footprints_to_wkb_round_trips_and_refuses_missing_ones() -> None:
    footprints = footprints_from_geojson([FIJI_FOLDED, polygon([(0, 0), (1, 0), (1, 1), (0, 0)])])
    wkb = footprints_to_wkb(footprints)
    assert shapely.from_wkb(wkb.to_numpy(zero_copy_only=False)).tolist() == footprints.tolist()
    first = wkb.to_pylist()[0]
    assert first is not None and first[0] == 1  # little-endian
    with pytest.raises(InvalidFootprint, match="#1"):
        footprints_to_wkb([footprints[0], None])


def test_a_batch_of_30000_ordinary_footprints_takes_a_fraction_of_a_second() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-170, 170, 30_000).tolist(), rng.uniform(-60, 60, 30_000).tolist()
    corners = zip(x, y, strict=True)
    geometries = [polygon([(a, b), (a + 0.1, b), (a + 0.1, b + 0.1), (a, b + 0.1), (a, b)]) for a, b in corners]
    started = time.perf_counter()
    footprints_to_wkb(footprints_from_geojson(geometries))
    assert time.perf_counter() - started < 2.0  # about 0.15 s here: 30,000 scenes a second is the floor
