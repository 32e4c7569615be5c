"""The one shape of every rule: a registered object with an id, a title, a source and evaluate().

Every rule of the platform (eligibility, approval route, zoning and M0, standard land, supply modes,
homestead withdrawal, farmhouse leasing, listing publication, consolidation routes) is a subclass of
`Rule`, registered under its check, and returns a `RuleResult` (value, threshold, unit, status,
source, policy version). One function, `verdict_of` (vectorised: `combine`), turns the statuses of
a check into its verdict.

Declaring a rule (in the domain's own file; adding a rule touches that file and the policy data):

    from landmarket.rules import FAIL, PASS, Rule, register

    @register
    class GreenRatio(Rule):
        id = "zoning.green_ratio"                    # unique; prefix = domain
        check = "zoning"                             # the check it belongs to
        title = "绿地率不超过{max} / green ratio at most {max}"
        title_params = {"max": "zoning.industrial.green_ratio_max"}  # placeholder → policy key
        source = "国土资发〔2008〕24号"               # cited when no parameter is read

        def evaluate(self, facts, policy):           # facts: whatever the check passes
            param = policy["zoning.industrial.green_ratio_max"]
            ok = facts.green_ratio <= policy.fraction(param.key)
            return self.result(policy, PASS if ok else FAIL, facts.green_ratio,
                               param.value, param.unit, params=[param])

Titles are templates: each `{name}` is rendered from the policy parameter in force, in the words
of each half of the bilingual title ("15亩" / "15 mu"), so a bureau's override changes the wording
together with the verdict; never write the number into the title. `rule.title_for(policy)` renders.

Evaluating: `evaluate_rules(check, facts, policy)` runs the check's rules in definition order
(a rule returning None does not apply), `verdict_of([r.status for r in results])` combines them.
Vectorised checks (landmarket.eligibility) subclass `Rule` with `outcome()` over a frame and use
`combine(status_arrays, n)`; both share the same precedence: any fail → ineligible, else any
needs_review → needs_review, else eligible (info never changes a verdict).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from landmarket.policy import Param, Policy, load_policy

# Rule statuses.
PASS = "pass"
FAIL = "fail"
REVIEW = "needs_review"
INFO = "info"
STATUSES = (PASS, FAIL, REVIEW, INFO)

# Check verdicts.
ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
NEEDS_REVIEW = "needs_review"
VERDICTS = (ELIGIBLE, INELIGIBLE, NEEDS_REVIEW)
# A verdict read back as a status (a check folded into another as one rule).
STATUS_OF_VERDICT = {ELIGIBLE: PASS, INELIGIBLE: FAIL, NEEDS_REVIEW: REVIEW}


def jsonable(value: Any) -> Any:
    """Numpy scalars, fractions, NaN and dates turned into plain JSON values."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class RuleResult:
    """One rule for one parcel (or project): status, measured value, threshold, source."""

    rule_id: str
    title: str
    status: str
    value: Any
    threshold: Any
    unit: str
    source: str
    policy_version: str
    detail: str = ""
    provisional: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "status": self.status,
            "value": jsonable(self.value),
            "threshold": jsonable(self.threshold),
            "unit": self.unit,
            "source": self.source,
            "policy_version": self.policy_version,
            "provisional": self.provisional,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Verdict:
    """A check's verdict with every rule it evaluated, the areas and the policy version used."""

    check: str
    title: str
    verdict: str
    rules: tuple[RuleResult, ...]
    areas: dict[str, float]
    policy_version: str
    on: date
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """Ids of the rules that failed."""
        return [r.rule_id for r in self.rules if r.status == FAIL]

    @property
    def review(self) -> list[str]:
        """Ids of the rules that need review (missing data, uncovered area)."""
        return [r.rule_id for r in self.rules if r.status == REVIEW]

    def rule(self, rule_id: str) -> RuleResult:
        """The result of one rule by id."""
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape the API returns)."""
        return {
            "check": self.check,
            "title": self.title,
            "verdict": self.verdict,
            "policy_version": self.policy_version,
            "on": self.on.isoformat(),
            "areas": jsonable(self.areas),
            "failed": self.failed,
            "needs_review": self.review,
            "rules": [r.to_dict() for r in self.rules],
            **{k: jsonable(v) for k, v in self.extra.items()},
        }


def combine(statuses: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Verdict per item from status arrays: any fail → ineligible; else any review → review."""
    fail = np.zeros(n, dtype=bool)
    review = np.zeros(n, dtype=bool)
    for status in statuses:
        status = np.asarray(status, dtype=object)
        fail |= status == FAIL
        review |= status == REVIEW
    return combine_masks(fail, review)


def combine_masks(fail: np.ndarray, review: np.ndarray) -> np.ndarray:
    """combine from the items' any-fail and any-review masks."""
    return np.where(fail, INELIGIBLE, np.where(review, NEEDS_REVIEW, ELIGIBLE)).astype(object)


def verdict_of(statuses: Iterable[str]) -> str:
    """The verdict of one item from its rule statuses (the same precedence as combine)."""
    return str(combine([np.array([s], dtype=object) for s in statuses], 1)[0])


def worst_verdict(verdicts: Iterable[str]) -> str:
    """The verdict of several checks together (ineligible over needs_review over eligible)."""
    return verdict_of(STATUS_OF_VERDICT.get(v, REVIEW) for v in verdicts)


# --- Titles rendered from policy parameters -----------------------------------------------------

_UNIT_WORDS: dict[str, tuple[str, str]] = {  # unit → (Chinese suffix, English suffix)
    "ha": ("公顷", " ha"),
    "mu": ("亩", " mu"),
    "m2": (" m²", " m²"),
    "degree": ("°", "°"),
    "times": ("倍", "×"),
    "%": ("%", " %"),
    "year": ("年", " years"),
    "day": ("天", " days"),
    "yuan/mu": ("元/亩", " yuan/mu"),
    "ratio": ("", ""),
}
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def number_text(value: Any) -> str:
    """A number as short text: 35, 1.5, 2/3."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quantity(param: Param | None, lang: str = "zh") -> str:
    """A parameter's value with its unit in one language ('zh' or 'en'): 35公顷 / 35 ha."""
    if param is None or param.value is None:
        return "—" if lang == "zh" else "(not set)"
    zh, en = _UNIT_WORDS.get(param.unit, ("", f" {param.unit}"))
    suffix = zh if lang == "zh" else en
    if isinstance(param.value, list | tuple):
        return ", ".join(f"{number_text(v)}{suffix}" for v in param.value)
    if isinstance(param.value, bool):
        return ("是" if param.value else "否") if lang == "zh" else ("yes" if param.value else "no")
    return f"{number_text(param.value)}{suffix}"


def render(template: str, params: Mapping[str, Param | None]) -> str:
    """A bilingual 'zh / en' template with each {name} replaced by its parameter's quantity."""
    halves = template.split(" / ", 1)
    langs = ("zh", "en") if len(halves) == 2 else ("zh",)

    def fill(half: str, lang: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            return quantity(params[name], lang) if name in params else m[0]

        return _PLACEHOLDER.sub(one, half)

    return " / ".join(fill(half, lang) for half, lang in zip(halves, langs, strict=True))


# --- Rules and their registry --------------------------------------------------------------------


class Rule:
    """Base of every rule: subclasses set the class attributes and implement evaluate()."""

    id: ClassVar[str]
    check: ClassVar[str]
    # Subclasses declare `title = "中文 / English"` (a template, {name} from title_params); it is
    # kept as `template`, and `rule.title` renders it from the packaged policy in force today.
    template: ClassVar[str] = ""
    title_params: ClassVar[Mapping[str, str]] = {}  # placeholder → policy key
    source: ClassVar[str] = ""  # legal basis, cited when the rule reads no policy parameter

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("title")
        if isinstance(declared, str):
            cls.template = declared
            delattr(cls, "title")

    @property
    def title(self) -> str:
        """The title rendered from today's packaged policy (use title_for with a verdict's policy)."""
        if not self.title_params:
            return self.template
        return self.title_for(load_policy())

    def title_for(self, policy: Policy | None) -> str:
        """The title with its placeholders rendered from the policy in force."""
        if not self.title_params:
            return self.template
        params = {
            name: (policy.get(key) if policy is not None else None)
            for name, key in self.title_params.items()
        }
        return render(self.template, params)

    def evaluate(self, facts: Any, policy: Policy) -> RuleResult | None:
        """The rule over one item's facts; None when the rule does not apply to it."""
        raise NotImplementedError

    def result(
        self,
        policy: Policy | None,
        status: str,
        value: Any,
        threshold: Any = None,
        unit: str = "",
        *,
        params: Iterable[Param | None] = (),
        detail: str = "",
        source: str | None = None,
        version: str | None = None,
    ) -> RuleResult:
        """A RuleResult citing the parameters read: their sources, newest version, provisional."""
        read = [p for p in params if p is not None]
        cited = source or "; ".join(dict.fromkeys(p.source for p in read)) or self.source or "—"
        if read:
            version = max(read, key=lambda p: (p.effective, p.version)).version
        elif version is None:
            version = policy.version if policy is not None else "—"
        return RuleResult(
            rule_id=self.id,
            title=self.title_for(policy),
            status=status,
            value=value,
            threshold=threshold,
            unit=unit,
            source=cited,
            policy_version=version,
            detail=detail,
            provisional=any(p.provisional for p in read),
        )


RULES: dict[str, Rule] = {}
_BY_CHECK: dict[str, list[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry, in definition order within its check."""
    rule = cls()
    if rule.id in RULES:
        raise ValueError(f"rule {rule.id} registered twice")
    RULES[rule.id] = rule
    _BY_CHECK.setdefault(rule.check, []).append(rule)
    return cls


def rules_for(check: str) -> list[Rule]:
    """The ordered rules of a check."""
    return list(_BY_CHECK.get(check, []))


def evaluate_rules(check: str, facts: Any, policy: Policy) -> tuple[RuleResult, ...]:
    """Every rule of a check that applies to the facts, in definition order."""
    results = (rule.evaluate(facts, policy) for rule in rules_for(check))
    return tuple(r for r in results if r is not None)


def status_of(ok: bool | None) -> str:
    """pass / fail, or needs_review when the fact is unknown (None)."""
    return REVIEW if ok is None else PASS if ok else FAIL


__all__ = [
    "ELIGIBLE",
    "FAIL",
    "INELIGIBLE",
    "INFO",
    "NEEDS_REVIEW",
    "PASS",
    "REVIEW",
    "RULES",
    "STATUSES",
    "STATUS_OF_VERDICT",
    "VERDICTS",
    "Rule",
    "RuleResult",
    "Verdict",
    "combine",
    "combine_masks",
    "evaluate_rules",
    "jsonable",
    "number_text",
    "quantity",
    "register",
    "render",
    "rules_for",
    "status_of",
    "verdict_of",
    "worst_verdict",
]
