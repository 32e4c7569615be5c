"""Versioned policy data: TOML layers with effective dates, merged into the policy in force."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from landmarket.errors import InvalidInput, LandmarketError, RecordProblem
from landmarket.units import M2_PER_HA, M2_PER_MU

PACKAGED_DIR = Path(__file__).resolve().parent / "data"
_LAYER_KEYS = {"version", "effective", "title", "source", "note", "primary", "platform_default"}
_PARAM_KEYS = {"value", "unit", "source", "provisional", "note", "name"}
_AREA_FACTORS = {"m2": 1.0, "mu": M2_PER_MU, "ha": M2_PER_HA}
_FRACTION_UNITS = {"%": 0.01, "ratio": 1.0}


class PolicyError(LandmarketError):
    """The policy data lacks a parameter a rule needs, or holds a value of the wrong kind."""

    status = 500
    title = "政策数据不完整 / Policy data incomplete"


@dataclass(frozen=True)
class Param:
    """One policy parameter in force: value, unit, source citation and the version it came from."""

    key: str
    value: Any
    unit: str
    source: str
    version: str
    effective: date
    provisional: bool = False
    note: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (fractions as 'p/q' text)."""
        value = self.value
        if isinstance(value, Fraction):
            value = f"{value.numerator}/{value.denominator}"
        out = {
            "key": self.key,
            "value": value,
            "unit": self.unit,
            "source": self.source,
            "version": self.version,
            "effective": self.effective.isoformat(),
            "provisional": self.provisional,
        }
        if self.name:
            out["name"] = self.name
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class PolicyLayer:
    """One policy file: a version, its effective date and the parameters it sets."""

    version: str
    effective: date
    title: str
    source: str
    path: str
    params: Mapping[str, Mapping[str, Any]]
    override: bool = False  # from a bureau's override directory
    primary: bool = False  # a law or plan the reported policy version names (not a supplement)
    # A platform default (a configurable number no law sets) is not date-gated like a law: it
    # applies on every date, below every law, plan and override that sets the same key.
    platform_default: bool = False


@dataclass(frozen=True)
class Policy:
    """The parameters in force on one date, each traceable to its version and source."""

    on: date
    version: str
    layers: tuple[PolicyLayer, ...]
    params: Mapping[str, Param] = field(repr=False)

    def __contains__(self, key: str) -> bool:
        return key in self.params

    def __getitem__(self, key: str) -> Param:
        try:
            return self.params[key]
        except KeyError:
            raise PolicyError(
                f"政策 {self.version} 缺少参数 {key} / policy {self.version} has no parameter {key}"
            ) from None

    def get(self, key: str) -> Param | None:
        """The parameter, or None when no version in force sets it."""
        return self.params.get(key)

    def value(self, key: str, default: Any = ...) -> Any:
        """The bare value of a parameter (default when given and the parameter is absent)."""
        if key not in self.params and default is not ...:
            return default
        return self[key].value

    def flag(self, key: str) -> bool:
        """A yes/no parameter; absent means no (a pilot not yet in force)."""
        param = self.get(key)
        return bool(param.value) if param is not None else False

    def number(self, key: str) -> float:
        """A numeric parameter as float (its own unit)."""
        param = self[key]
        if isinstance(param.value, bool) or not isinstance(param.value, int | float | Fraction):
            raise PolicyError(f"参数 {key} 不是数值 / parameter {key} is not a number")
        return float(param.value)

    def area_m2(self, key: str) -> float:
        """An area parameter converted from its unit (m2, mu, ha) to m²."""
        param = self[key]
        if param.unit not in _AREA_FACTORS:
            raise PolicyError(
                f"参数 {key} 单位不是面积 / unit of {key} is {param.unit!r}, not an area"
            )
        return self.number(key) * _AREA_FACTORS[param.unit]

    def fraction(self, key: str) -> float | Fraction:
        """A share as a fraction of one ('%' divided by 100; 'ratio' kept, exact when p/q)."""
        param = self[key]
        if param.unit not in _FRACTION_UNITS:
            raise PolicyError(
                f"参数 {key} 单位不是比例 / unit of {key} is {param.unit!r}, not a share"
            )
        if isinstance(param.value, Fraction):
            return param.value
        return self.number(key) * _FRACTION_UNITS[param.unit]

    def group(self, prefix: str) -> dict[str, Param]:
        """Parameters under a dotted prefix, keyed by the rest of their key."""
        head = prefix.rstrip(".") + "."
        return {k[len(head) :]: p for k, p in self.params.items() if k.startswith(head)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the date, the layers applied and every parameter."""
        return {
            "on": self.on.isoformat(),
            "version": self.version,
            "layers": [
                {
                    "version": layer.version,
                    "effective": layer.effective.isoformat(),
                    "title": layer.title,
                    "source": layer.source,
                    "override": layer.override,
                    "platform_default": layer.platform_default,
                }
                for layer in self.layers
            ],
            "params": {k: self.params[k].to_dict() for k in sorted(self.params)},
        }


def load_policy(
    on: date | None = None,
    *,
    policy_dir: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Policy:
    """The policy in force on a date (today when None): packaged layers, then override files."""
    on = on or date.today()
    layers = list(_packaged_layers())
    if policy_dir is not None:
        layers += _read_dir(Path(policy_dir), override=True)
    laws = [layer for layer in layers if not layer.platform_default]
    if not any(layer.effective <= on for layer in laws):
        in_force: list[PolicyLayer] = []
    else:
        in_force = sorted(
            (layer for layer in layers if layer.effective <= on or layer.platform_default),
            key=lambda layer: (
                not layer.platform_default,
                layer.effective,
                layer.override,
                layer.version,
            ),
        )
    if not in_force:
        earliest = min((layer.effective for layer in laws), default=None)
        raise InvalidInput(
            [
                RecordProblem(
                    "policy",
                    f"{on.isoformat()} 无生效政策 / no policy in force (earliest {earliest})",
                    "on",
                )
            ]
        )
    cache_key = _merged_key(on, in_force, overrides)
    if cache_key is not None and cache_key in _MERGED:
        return _MERGED[cache_key]
    _no_ambiguity(in_force)
    params: dict[str, Param] = {}
    for layer in in_force:
        for key, raw in layer.params.items():
            params[key] = _merge(params.get(key), key, raw, layer)
    # The reported version: the latest law/plan or bureau override; supplements stay in the layers.
    named = [layer for layer in in_force if layer.primary or layer.override] or in_force
    version = named[-1].version
    if overrides:
        for key, value in overrides.items():
            if value is None:
                continue
            base = params.get(key)
            if base is None:
                raise PolicyError(f"无法覆盖未知参数 / cannot override unknown parameter {key}")
            params[key] = replace(
                base,
                value=value,
                source="平台配置覆盖 / platform settings override",
                version="settings",
                effective=on,
                provisional=False,
            )
    policy = Policy(on=on, version=version, layers=tuple(in_force), params=params)
    if cache_key is not None:
        if len(_MERGED) >= _MERGED_MAX:
            _MERGED.clear()
        _MERGED[cache_key] = policy
    return policy


# Policies already merged, by date, the layers in force (the very objects, which the cached
# policy keeps alive, so their ids cannot be reused) and the overrides: a request asking for the
# policy of a date pays for the merge once, not each time. Policies and params are frozen.
_MERGED: dict[tuple, Policy] = {}
_MERGED_MAX = 256


def _merged_key(
    on: date, in_force: list[PolicyLayer], overrides: Mapping[str, Any] | None
) -> tuple | None:
    try:
        given = tuple(sorted((overrides or {}).items()))
        hash(given)
    except TypeError:  # an unhashable override value: merged every time
        return None
    return (on, tuple(id(layer) for layer in in_force), given)


def policy_from_settings(settings: Any, on: date | None = None) -> Policy:
    """The policy in force, with the override directory and overrides a Settings object carries."""
    overrides = {"three_lines.sliver_tolerance": getattr(settings, "sliver_tolerance_m2", None)}
    return load_policy(on, policy_dir=getattr(settings, "policy_dir", None), overrides=overrides)


def available_versions(policy_dir: Path | str | None = None) -> list[tuple[date, str]]:
    """Every (effective date, version) known, packaged and overrides, oldest first."""
    layers = list(_packaged_layers())
    if policy_dir is not None:
        layers += _read_dir(Path(policy_dir), override=True)
    return sorted((layer.effective, layer.version) for layer in layers)


def _no_ambiguity(layers: list[PolicyLayer]) -> None:
    """Two files of one kind and date may not set the same key: which wins would be arbitrary."""
    seen: dict[tuple[date, bool, bool, str], PolicyLayer] = {}
    for layer in layers:
        for key in layer.params:
            kind = (layer.effective, layer.override, layer.platform_default, key)
            other = seen.setdefault(kind, layer)
            if other is not layer:
                _bad(layer, key, f"与同日生效的 {other.version} 重复 / also set by {other.version}")


def _merge(prior: Param | None, key: str, raw: Mapping[str, Any], layer: PolicyLayer) -> Param:
    """A layer's entry for one key on top of what earlier layers set."""
    unit = raw.get("unit", prior.unit if prior else None)
    if unit is None:
        _bad(layer, key, "缺少单位 / missing 'unit'")
    value = _coerce(raw.get("value"), unit, layer, key)
    known = prior is not None and prior.value is not None and value is not None
    if known and _kind(prior.value) != _kind(value):
        _bad(
            layer,
            key,
            f"值类型与 {prior.version} 不一致 / value kind differs from {prior.version}",
        )
    return Param(
        key=key,
        value=value,
        unit=unit,
        source=raw["source"],
        version=layer.version,
        effective=layer.effective,
        provisional=bool(raw.get("provisional", False)),
        note=raw.get("note"),
        name=raw.get("name", prior.name if prior else None),
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "flag"
    if isinstance(value, int | float | Fraction):
        return "number"
    return type(value).__name__


def _coerce(value: Any, unit: str, layer: PolicyLayer, key: str) -> Any:
    """'p/q' text in a ratio becomes an exact Fraction (2/3 must compare exactly)."""
    if isinstance(value, str) and unit == "ratio":
        try:
            return Fraction(value)
        except ValueError:
            _bad(layer, key, f"比例无效 / invalid ratio {value!r}")
    return value


def _bad(layer: PolicyLayer | Path | str, key: str | None, problem: str) -> NoReturn:
    path = layer.path if isinstance(layer, PolicyLayer) else str(layer)
    raise InvalidInput([RecordProblem(path, problem, key)], source=path)


@lru_cache
def _packaged_layers() -> tuple[PolicyLayer, ...]:
    return tuple(_read_dir(PACKAGED_DIR, override=False))


def _read_dir(directory: Path, override: bool) -> list[PolicyLayer]:
    if not directory.is_dir():
        _bad(directory, None, "政策目录不存在 / policy directory does not exist")
    layers = [_read_cached(path, path.stat().st_mtime_ns, override) for path in _toml(directory)]
    seen: dict[str, str] = {}
    for layer in layers:
        if layer.version in seen:
            _bad(layer, "version", f"版本号重复 / version also in {seen[layer.version]}")
        seen[layer.version] = layer.path
    return layers


def _toml(directory: Path) -> Iterable[Path]:
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


@lru_cache(maxsize=256)
def _read_cached(path: Path, _mtime: int, override: bool) -> PolicyLayer:
    return read_layer(path, override=override)


def read_layer(path: Path, *, override: bool = False) -> PolicyLayer:
    """Parse and validate one policy file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        _bad(path, None, f"TOML 无法解析 / cannot parse TOML: {exc}")
    for key in ("version", "effective", "source"):
        if key not in doc:
            _bad(path, key, f"缺少 {key} / missing '{key}'")
    if not isinstance(doc["effective"], date):
        _bad(path, "effective", "生效日期须为 TOML 日期 / 'effective' must be a TOML date")
    params: dict[str, dict[str, Any]] = {}
    _collect(doc, "", params, path)
    if not params:
        _bad(path, None, "没有参数 / no parameters")
    return PolicyLayer(
        version=str(doc["version"]),
        effective=doc["effective"],
        title=str(doc.get("title", doc["version"])),
        source=str(doc["source"]),
        path=str(path),
        params=params,
        override=override,
        primary=bool(doc.get("primary", False)),
        platform_default=bool(doc.get("platform_default", False)),
    )


def _collect(table: Mapping[str, Any], prefix: str, out: dict[str, dict[str, Any]], path: Path):
    """Walk nested tables; a table with a 'source' key is one parameter."""
    for key, item in table.items():
        full = f"{prefix}{key}"
        if not prefix and key in _LAYER_KEYS:
            continue
        if not isinstance(item, dict):
            _bad(path, full, "参数须为含 value/unit/source 的表 / parameter must be a table")
        if "source" not in item:
            _collect(item, f"{full}.", out, path)
            continue
        unknown = set(item) - _PARAM_KEYS
        if unknown:
            _bad(path, full, f"未知字段 / unknown fields {sorted(unknown)}")
        if not str(item["source"]).strip():
            _bad(path, full, "来源为空 / empty 'source'")
        if "value" not in item and not item.get("provisional"):
            _bad(
                path,
                full,
                "缺少值(仅暂定参数可留空) / missing 'value' (only provisional may be unset)",
            )
        out[full] = dict(item)
