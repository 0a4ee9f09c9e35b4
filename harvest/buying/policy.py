"""Per-AOI ordering policies: what may be bought for an AOI, with which options, under which budget.

A policy comes from up to three layers, later ones winning field by field (mappings such as
`monthly_budget` or `product_options` merge key by key, lists and single values replace):

1. `defaults:` of the policy file (`policies.yaml` beside the AOI file, or `HARVEST_POLICIES`),
2. the `policy` property of the AOI's feature in the AOI file,
3. `aois: {<aoi id>: ...}` of the policy file.

The file's `overall:` section holds the overall monthly budget, the overall auto-approval ceiling
and the exchange rates (EUR per unit) that make prices in different units comparable. An AOI
orders nothing unless its policy says `enabled: true`. A broken AOI policy is refused with a
message naming the AOI and the field, and that AOI orders nothing; a broken file, `defaults:` or
`overall:` refuses the whole file (`PolicyError`). See data/README.md for every field.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo

from harvest import registry
from harvest.aois import AoiSet
from harvest.ordering.model import Unit
from harvest.textfiles import TextFileError, read_text

POLICIES_ENV = "HARVEST_POLICIES"
POLICIES_NAME = "policies.yaml"
MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024

Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Amounts = dict[Unit, Amount]
Name = Annotated[str, Field(min_length=1)]
SECTIONS = ("defaults", "aois", "overall")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)


class _ProductOptions(_Strict):
    """Product options per provider that sells (each seller's own options, see its order desk)."""

    def for_provider(self, provider: str) -> dict[str, Any]:
        """The options set for `provider` (unset ones left out), as they go into the order key."""
        options: BaseModel = getattr(self, _field_name(provider))
        return options.model_dump(exclude_none=True)


def _field_name(provider: str) -> str:
    return provider.replace("-", "_")


if TYPE_CHECKING:
    ProductOptions = _ProductOptions
else:  # one field per seller of the registry, named by its id, holding that seller's options model
    ProductOptions = create_model(
        "ProductOptions",
        __base__=_ProductOptions,
        __doc__=_ProductOptions.__doc__,
        **{
            _field_name(seller.id): (seller.options, Field(default_factory=seller.options, alias=seller.id))
            for seller in registry.sellers()
        },
    )


if TYPE_CHECKING:
    Seller = str
else:  # a Literal of the registry's sellers, so a wrong name is told with the list of the right ones
    Seller = Literal[registry.SELLERS]


class AoiPolicy(_Strict):
    """What may be bought for one AOI."""

    enabled: StrictBool = False
    max_cloud_cover: Annotated[StrictFloat, Field(ge=0, le=100)] | None = None
    max_incidence_angle: Annotated[StrictFloat, Field(ge=0, le=90)] | None = None
    max_gsd_m: Annotated[StrictFloat, Field(gt=0)] | None = None
    min_aoi_coverage: Annotated[StrictFloat, Field(ge=0, le=1)] | None = None
    providers: tuple[Seller, ...] = registry.SELLERS
    constellations: tuple[Name, ...] | None = None
    product_options: ProductOptions = Field(default_factory=ProductOptions)
    monthly_budget: Amounts = Field(default_factory=dict)
    auto_approve_below: Amounts = Field(default_factory=dict)

    def allows_constellation(self, constellation: str | None) -> bool:
        """Whether the constellation is allowed (case-insensitive; any when the policy lists none)."""
        if self.constellations is None:
            return True
        return constellation is not None and constellation.casefold() in {c.casefold() for c in self.constellations}

    def budget(self, unit: Unit) -> Decimal:
        """The monthly budget in `unit`; a unit the policy does not list cannot be spent (0)."""
        return self.monthly_budget.get(unit, Decimal(0))


class OverallPolicy(_Strict):
    """What holds across every AOI: the overall monthly budget, auto-approval ceiling and exchange rates."""

    monthly_budget: Amounts = Field(default_factory=dict)
    auto_approve_below: Amounts = Field(default_factory=dict)
    rates: dict[Unit, Rate] = Field(default_factory=dict)  # EUR per unit, e.g. {"USD cents": 0.0092}

    @field_validator("rates")
    @classmethod
    def _eur_is_the_reference(cls, rates: dict[Unit, Decimal]) -> dict[Unit, Decimal]:
        if Unit.EUR in rates:
            raise ValueError("EUR is what rates convert to; leave it out (its rate is 1)")
        return rates

    def budget(self, unit: Unit) -> Decimal | None:
        """The overall monthly budget in `unit`, or None: no overall cap beyond the AOIs' own budgets."""
        return self.monthly_budget.get(unit)

    def eur(self, amount: Decimal, unit: Unit) -> Decimal | None:
        """`amount` of `unit` in EUR through this policy's rates (see in_eur)."""
        return in_eur(amount, unit, self.rates)


def in_eur(amount: Decimal, unit: Unit, rates: Mapping[Unit, Decimal]) -> Decimal | None:
    """`amount` of `unit` in EUR when EUR itself or a rate (EUR per unit) is given, else None: not comparable."""
    if unit == Unit.EUR:
        return amount
    rate = rates.get(unit)
    return None if rate is None else amount * Decimal(rate)


DISABLED = AoiPolicy()


@dataclass(frozen=True)
class PolicyProblem:
    """Why one AOI's policy (or a part of the file) was refused."""

    aoi_id: str | None  # None: the file, `defaults:` or `overall:`
    message: str

    def __str__(self) -> str:
        return self.message


class PolicyError(ValueError):
    """The policy file as a whole cannot be used."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class PolicySet:
    """Every loaded AOI's policy (disabled when refused or unset), the overall policy and the problems found."""

    source: Path | None  # the policy file read, None when there is none
    policies: Mapping[str, AoiPolicy]
    overall: OverallPolicy = field(default_factory=OverallPolicy)
    problems: tuple[PolicyProblem, ...] = ()

    def policy(self, aoi_id: str) -> AoiPolicy:
        """The AOI's policy; an unknown or refused AOI gets the disabled default."""
        return self.policies.get(aoi_id, DISABLED)

    def enabled(self) -> dict[str, AoiPolicy]:
        """The policies that allow ordering, by AOI id."""
        return {aoi_id: policy for aoi_id, policy in self.policies.items() if policy.enabled}

    def auto_approves(self, aoi_id: str, amount: Decimal, unit: Unit) -> bool:
        """Whether `amount` is strictly below the AOI's threshold for `unit` and below any overall one."""
        own = self.policy(aoi_id).auto_approve_below.get(unit)
        ceiling = self.overall.auto_approve_below.get(unit)
        return own is not None and amount < own and (ceiling is None or amount < ceiling)


def policies_path(aoi_set: AoiSet) -> Path:
    """HARVEST_POLICIES, or policies.yaml beside the AOI file."""
    configured = os.environ.get(POLICIES_ENV)
    return Path(configured) if configured else aoi_set.source.parent / POLICIES_NAME


def load_policies(aoi_set: AoiSet, path: Path | None = None) -> PolicySet:
    """Every AOI's policy from the AOI file and the policy file; PolicyError if the file as a whole is unusable."""
    explicit = path is not None or POLICIES_ENV in os.environ
    source: Path | None = Path(path) if path is not None else policies_path(aoi_set)
    document = _read(source, required=explicit) if source is not None else None
    if document is None:
        source, document = None, {}
    where = str(source)
    defaults = _layer(document.get("defaults"), AoiPolicy, "defaults", where)
    overall = _layer(document.get("overall"), OverallPolicy, "overall", where)
    file_problems = defaults.problems + overall.problems
    if file_problems:
        raise PolicyError(file_problems)
    overrides = document.get("aois") or {}
    if not isinstance(overrides, dict):
        raise PolicyError(
            [PolicyProblem(None, f"{where}: `aois` must map AOI ids to policies, e.g. toulouse: {{...}}")]
        )

    known = {aoi.id for aoi in aoi_set.aois}
    problems = [
        PolicyProblem(str(aoi_id), f"aoi {aoi_id!r}: {where} has a policy for it, but {aoi_set.source} has no "
                      f"such AOI{_did_you_mean(str(aoi_id), known)}; known AOIs: {', '.join(sorted(known))}")
        for aoi_id in overrides
        if aoi_id not in known and aoi_id not in {p.aoi_id for p in aoi_set.problems}
    ]  # fmt: skip
    policies: dict[str, AoiPolicy] = {}
    for aoi in aoi_set.aois:
        label = f"aoi {aoi.id!r}"
        own = _layer(aoi.settings.get("policy"), AoiPolicy, label, f"`policy` in {aoi_set.source}", aoi.id)
        override = _layer(overrides.get(aoi.id), AoiPolicy, label, f"{where}, aois.{aoi.id}", aoi.id)
        refused = own.problems + override.problems
        problems.extend(refused)
        if refused:
            policies[aoi.id] = DISABLED
            continue
        merged = _merge(_merge(defaults.patch, own.patch), override.patch)
        policies[aoi.id] = AoiPolicy.model_validate(merged)
    return PolicySet(
        source=source,
        policies=MappingProxyType(policies),
        overall=OverallPolicy.model_validate(overall.patch),
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class _Layer:
    """One validated layer of a policy: the fields it sets, or why it was refused."""

    patch: dict[str, Any]
    problems: tuple[PolicyProblem, ...]


def _layer(raw: Any, model: type[_Strict], label: str, where: str, aoi_id: str | None = None) -> _Layer:
    """Validate one layer; each problem reads "<label>: <what is wrong> (in <where>)"."""
    if raw is None:
        return _Layer({}, ())
    if not isinstance(raw, dict):
        message = f"{label}: must be a mapping of policy fields, got {raw!r} (in {where})"
        return _Layer({}, (PolicyProblem(aoi_id, message),))
    try:
        validated = model.model_validate(raw)
    except ValidationError as exc:
        messages = dict.fromkeys(_describe(model, error) for error in exc.errors())
        return _Layer({}, tuple(PolicyProblem(aoi_id, f"{label}: {message} (in {where})") for message in messages))
    return _Layer(validated.model_dump(exclude_unset=True, by_alias=True), ())


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# what each field accepts, said the way a person fixing the file needs it
_UNITS = ", ".join(unit.value for unit in Unit)
_ALLOWED = {
    "enabled": "true or false",
    "max_cloud_cover": "between 0 and 100 (percent of the scene)",
    "max_incidence_angle": "between 0 and 90 (degrees off nadir)",
    "max_gsd_m": "a number of metres above 0",
    "min_aoi_coverage": "between 0 and 1 (the fraction of the AOI a footprint covers)",
    "providers": f"a list of {', '.join(registry.SELLERS)}",
    "constellations": "a list of constellation names, e.g. [PHR, PNEO, SPOT]",
    "product_options": f"a mapping of provider ({', '.join(registry.SELLERS)}) to its options",
    **{name: hint for seller in registry.sellers() if seller.options for name, hint in seller.options.hints.items()},
    "monthly_budget": f"a mapping of unit ({_UNITS}) to an amount, e.g. {{EUR: 2000, km2: 25}}",
    "auto_approve_below": f"a mapping of unit ({_UNITS}) to an amount, e.g. {{EUR: 500}}",
    "rates": f"a mapping of unit ({_UNITS}) to EUR per unit, e.g. {{'USD cents': 0.0092}}",
}
_PER_ITEM = {"providers": f"one of {', '.join(registry.SELLERS)}", "constellations": "a constellation name, e.g. PHR"}
_PER_UNIT = {"monthly_budget": "an amount of at least 0", "auto_approve_below": "an amount of at least 0",
             "rates": "a number of EUR per unit above 0"}  # fmt: skip


def _describe(model: type[BaseModel], error: Any) -> str:
    """One pydantic error in plain words: which field, what it accepts, what it got."""
    loc = tuple(error["loc"])
    got = error.get("input")
    if error["type"] == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        names = sorted(info.alias or name for name, info in parent.model_fields.items()) if parent else []
        where = f" in {_path(loc[:-1])}" if loc[:-1] else ""
        if parent is not None and not names:
            return f"unknown field {loc[-1]!r}{where}: {parent.__doc__}"
        return f"unknown field {loc[-1]!r}{where}{_did_you_mean(str(loc[-1]), names)}; fields are {', '.join(names)}"
    if loc and loc[-1] == "[key]":
        return f"{_path(loc[:-2])} has an unknown unit {got!r}; units are {_UNITS}"
    if error["type"] == "value_error":
        return f"{_path(loc)}: {error['ctx']['error']}"
    names = [part for part in loc if isinstance(part, str)]
    if isinstance(loc[-1], int) and names[-1] in _PER_ITEM:
        allowed = _PER_ITEM[names[-1]]
    elif len(names) >= 2 and names[-2] in _PER_UNIT:
        allowed = _PER_UNIT[names[-2]]
    else:
        allowed = next((_ALLOWED[name] for name in reversed(names) if name in _ALLOWED), error["msg"])
    return f"{_path(loc)} must be {allowed}, got {got!r}"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        fields: dict[str, FieldInfo] = {
            (info.alias or name): info for name, info in (current.model_fields.items() if current else ())
        }
        annotation = fields[part].annotation if part in fields else None
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return current


def _path(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _did_you_mean(word: str, choices: Sequence[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (YAML would keep the last silently)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read(path: Path, *, required: bool) -> dict[str, Any] | None:
    """The policy file's sections; None when an optional file is absent."""
    try:
        text = read_text(path, max_bytes=MAX_POLICY_FILE_BYTES)
    except TextFileError as exc:
        if exc.missing and not required:
            return None
        if exc.missing:
            fix = f"; create it (see data/README.md) or unset {POLICIES_ENV}"
        else:
            fix = "" if exc.fix else f"; make it a YAML file (see data/README.md) or set {POLICIES_ENV}"
        raise PolicyError([PolicyProblem(None, f"policy file {exc}{fix}")]) from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(None, f"policy file {path} is not valid YAML: {exc}")]) from exc
    except RecursionError as exc:
        message = f"policy file {path} is not valid YAML: it nests lists or mappings too deeply"
        raise PolicyError([PolicyProblem(None, message)]) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PolicyError([PolicyProblem(None, f"policy file {path} must be a mapping with {', '.join(SECTIONS)}")])
    unknown = [key for key in document if key not in SECTIONS]
    if unknown:
        hint = _did_you_mean(str(unknown[0]), SECTIONS)
        message = f"policy file {path}: unknown section {unknown[0]!r}{hint}; sections are {', '.join(SECTIONS)}"
        raise PolicyError([PolicyProblem(None, message)])
    return document
