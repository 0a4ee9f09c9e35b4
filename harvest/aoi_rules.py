"""Which AOIs each provider harvests: per-AOI provider lists, and a size limit per provider.

A search over a continent-sized AOI is almost always a mistake (a typo in the coordinates, a
missing `coordinates` level) and burns provider quota; each provider has a limit, and an AOI
above it is refused for that provider only, with a message naming the AOI and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from harvest.aois import Aoi, AoiProblem, AoiSet
from harvest.sandbox.world.geometry import area_km2

# the largest AOI a provider's harvest accepts, in km²
MAX_AOI_KM2: dict[str, float] = {
    "oneatlas": 50_000.0,
    "arlula": 10_000.0,  # one search answers everything at once (no paging)
    "sentinelhub-import": 10_000.0,
    "sentinelhub-catalog": 250_000.0,
}


@dataclass(frozen=True)
class ProviderAois:
    """The AOIs one provider harvests, and those refused for it (file-level problems included)."""

    provider: str
    aois: tuple[Aoi, ...]
    problems: tuple[AoiProblem, ...]


def aois_for(provider: str, aoi_set: AoiSet) -> ProviderAois:
    """The AOIs of `aoi_set` that `provider` harvests."""
    usable: list[Aoi] = []
    problems = list(aoi_set.problems)
    for aoi in aoi_set.aois:
        wanted = aoi.settings.get("providers")
        if wanted is not None and provider not in wanted:
            continue
        area = area_km2(aoi.geometry)
        limit = MAX_AOI_KM2[provider]
        if area > limit:
            problems.append(
                AoiProblem(
                    aoi.id,
                    f"covers {area:,.0f} km², more than {provider} harvests ({limit:,.0f} km²); "
                    "split it into smaller AOIs, or list the providers it is for in its `providers` setting",
                )
            )
            continue
        usable.append(aoi)
    return ProviderAois(provider, tuple(usable), tuple(problems))
