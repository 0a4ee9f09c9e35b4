"""Which AOIs each provider harvests: per-AOI provider lists, and each provider's size limit (the registry's).

A search over a continent-sized AOI is almost always a mistake (a typo in the coordinates, a
missing `coordinates` level) and burns provider quota; each provider has a limit, and an AOI
above it is refused for that provider only, with a message naming the AOI and the fix.

A harvest needs at least one AOI: with none, a provider would be asked about nothing and every
day replaced by an empty answer, so `harvested_aois` refuses, with every AOI's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvest import registry
from harvest.aois import Aoi, AoiProblem, AoiSet, NoUsableAoiError
from harvest.catalog.geodesy import area_km2


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
        refused = _providers_problem(wanted)
        if refused is not None:
            problems.append(AoiProblem(aoi.id, refused))
            continue
        if wanted is not None and provider not in wanted:
            continue
        area = area_km2(aoi.geometry)
        limit = registry.get(provider).max_aoi_km2
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


def harvested_aois(provider: str, aoi_set: AoiSet) -> ProviderAois:
    """The AOIs `provider` harvests; NoUsableAoiError, with every AOI's reason, when there is none."""
    selected = aois_for(provider, aoi_set)
    if not selected.aois:
        why = _why_none(selected, aoi_set)
        raise NoUsableAoiError(f"no AOI in {aoi_set.source} is harvested for {provider}: {why}")
    return selected


def _why_none(selected: ProviderAois, aoi_set: AoiSet) -> str:
    if not aoi_set.aois and not aoi_set.problems:
        return "its `features` list is empty; add your areas of interest to it, or set HARVEST_AOIS to another file"
    refused = {problem.aoi_id for problem in selected.problems}
    left_out = [aoi.id for aoi in aoi_set.aois if aoi.id not in refused]
    reasons = [str(problem) for problem in selected.problems]
    if left_out:
        reasons.append(
            f"the `providers` setting of {', '.join(left_out)} leaves {selected.provider} out; "
            f"add {selected.provider} to it, or do not harvest {selected.provider}"
        )
    return "; ".join(reasons) + "; fix the file, or set HARVEST_AOIS to another one"


def _providers_problem(wanted: Any) -> str | None:
    """Why an AOI's `providers` setting is refused (not a list of known provider names), or None."""
    known = ", ".join(registry.IDS)
    if wanted is None:
        return None
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        return f"its `providers` setting must be a list of provider names ({known}), not {repr(wanted)[:60]}"
    unknown = [name for name in wanted if name not in registry.IDS]
    if unknown:
        return f"its `providers` setting names {unknown[0]!r}, which is not a provider; use {known}"
    return None
