"""market_entry: consent at exactly 2/3, sliver tolerance, uses and terms, missing coverage."""

from __future__ import annotations

import pytest

from landmarket.eligibility import RULES, market_entry, rules_for
from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from tests.eligibility_helpers import AFTER_PLAN, BEFORE_PLAN, PARCEL_CODE, context, frame, rect

SITE = rect(0, 0, 100, 100)  # 10000 m² = 15 mu
APPLICATION = {
    "parcel_code": PARCEL_CODE,
    "land_use": "0601",
    "registered": True,
    "disputed": False,
    "consent_for": 2,
    "consent_total": 3,
    "method": "transfer",
    "intended_use": "industrial",
    "term_years": 50,
}


def ctx(**kwargs):
    kwargs.setdefault("plan", [(rect(-500, -500, 1000, 1000), "1001")])
    return context(**kwargs)


def check(geom=SITE, context_=None, **changes):
    props = {**APPLICATION, **changes}
    return market_entry(frame([geom], **props), context_ or ctx(), on=AFTER_PLAN)


def test_eligible_parcel_lists_every_rule_with_value_threshold_and_source():
    verdict = check()
    assert verdict.verdict == "eligible", verdict.to_dict()
    assert [r.rule_id for r in verdict.rules] == [r.id for r in rules_for("market_entry")]
    assert verdict.areas == {"m2": 10000.0, "mu": 15.0, "ha": 1.0}
    data = verdict.to_dict()
    assert data["policy_version"] == "2025-11-23_chongqing-action-plan"
    term = verdict.rule("market_entry.term")
    assert (term.value, term.threshold, term.unit) == (50.0, 50.0, "year")
    assert "暂行条例 第十二条" in term.source
    for rule in data["rules"]:
        assert " / " in rule["title"] and rule["source"] and rule["policy_version"]
    assert data["max_term_years"] == 50.0
    assert data["increment_fee_rate"] == {"min": 20, "max": 50, "unit": "%"}


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"consent_for": 2, "consent_total": 3}, "pass"),  # exactly two thirds
        ({"consent_for": 20, "consent_total": 30}, "pass"),
        ({"consent_for": 19, "consent_total": 29}, "fail"),  # 0.655…
        ({"consent_for": None, "consent_total": None, "consent_ratio": 2 / 3}, "pass"),
        ({"consent_for": None, "consent_total": None, "consent_ratio": 0.66}, "fail"),
        ({"consent_for": None, "consent_total": None, "consent_ratio": 0.6667}, "pass"),
        ({"consent_for": None, "consent_total": None}, "needs_review"),
    ],
)
def test_consent_two_thirds_boundary(changes, status):
    result = check(**changes).rule("market_entry.consent")
    assert result.status == status
    assert result.threshold == load_policy(AFTER_PLAN)["market_entry.consent_min"].value


@pytest.mark.parametrize(
    ("strip_m", "status"), [(0.0499, "pass"), (0.05, "pass"), (0.0501, "fail"), (1.0, "fail")]
)
def test_pbf_sliver_below_at_and_above_tolerance(strip_m, status):
    # PBF overlaps a strip of the parcel's east edge: 100 m × strip width.
    pbf = [rect(100 - strip_m, 0, 200, 100)]
    verdict = check(context_=ctx(pbf=pbf))
    result = verdict.rule("market_entry.pbf_overlap")
    assert result.value == pytest.approx(100 * strip_m, abs=0.01)
    assert (result.status, result.threshold) == (status, 5.0)
    assert verdict.verdict == ("eligible" if status == "pass" else "ineligible")


def test_bureau_override_changes_the_tolerance_a_verdict_uses(tmp_path):
    (tmp_path / "2026-01-01_dazu.toml").write_text(
        'version = "dazu-2026"\neffective = 2026-01-01\nsource = "Dazu bureau"\n'
        '[three_lines.sliver_tolerance]\nvalue = 2.0\nsource = "Dazu bureau notice"\n',
        encoding="utf-8",
    )
    policy = load_policy(AFTER_PLAN, policy_dir=tmp_path)
    parcel = frame([SITE], **APPLICATION)
    result = market_entry(parcel, ctx(redline=[rect(99.97, 0, 10, 100)]), policy=policy).rule(
        "market_entry.redline_overlap"
    )
    assert (result.status, result.threshold, result.policy_version) == ("fail", 2.0, "dazu-2026")
    assert "Dazu bureau notice" in result.source


def test_outside_layer_coverage_needs_review_naming_the_layer():
    # The layers cover only the west half of the parcel.
    verdict = check(context_=ctx(coverage=rect(-1000, -1000, 1050, 2000)))
    assert verdict.verdict == "needs_review"
    result = verdict.rule("market_entry.pbf_overlap")
    assert result.status == "needs_review"
    assert "5,000 m²" in result.detail and "permanent basic farmland" in result.detail
    assert "market_entry.village_plan" in verdict.review


def test_missing_layer_needs_review():
    verdict = check(context_=ctx(missing=("redline",)))
    result = verdict.rule("market_entry.redline_overlap")
    assert result.status == "needs_review"
    assert "layer missing: ecological red line" in result.detail


def test_commodity_housing_and_terms_over_the_maximum_fail():
    housing = check(intended_use="commodity_housing")
    assert housing.rule("market_entry.intended_use").status == "fail"
    assert housing.verdict == "ineligible"
    tourism = check(intended_use="tourism", term_years=41)
    assert tourism.rule("market_entry.term").status == "fail"
    assert tourism.rule("market_entry.term").threshold == 40.0
    # Collective operational land enters the market for industry and commerce: residential use
    # fails (law reading corrected; it passed before), whatever the term.
    residential = check(intended_use="residential", term_years=70)
    assert residential.rule("market_entry.intended_use").status == "fail"
    assert residential.verdict == "ineligible"
    assert "residential" in residential.rule("market_entry.intended_use").threshold
    assert (
        check(intended_use="spaceport").rule("market_entry.intended_use").status == "needs_review"
    )


def test_ownership_land_use_plan_registration_and_dispute():
    state = check(parcel_code="500111001001GB00001")
    assert state.rule("market_entry.collective_ownership").status == "fail"
    homestead = check(land_use="0702")
    assert homestead.rule("market_entry.operational_land").status == "fail"
    residential_plan = check(context_=ctx(plan=[(rect(-500, -500, 1000, 1000), "0703")]))
    plan = residential_plan.rule("market_entry.village_plan")
    assert (plan.status, plan.value) == ("fail", 10000.0)
    assert check(registered=False).rule("market_entry.registered").status == "fail"
    assert check(disputed=True).rule("market_entry.no_dispute").status == "fail"
    assert check(registered=None).rule("market_entry.registered").status == "needs_review"


def test_site_only_skips_application_rules():
    parcel = frame(
        [SITE], parcel_code=PARCEL_CODE, land_use="0601", registered=True, disputed=False
    )
    verdict = market_entry(parcel, ctx(), on=AFTER_PLAN, site_only=True)
    assert verdict.verdict == "eligible"
    assert "market_entry.consent" not in [r.rule_id for r in verdict.rules]
    assert RULES["market_entry.consent"].application


def test_invalid_attributes_name_record_and_field():
    with pytest.raises(InvalidInput) as info:
        check(consent_ratio=1.5, consent_for=None, consent_total=None)
    problem = info.value.problems[0]
    assert (problem.record, problem.field) == (f"parcel {PARCEL_CODE}", "consent_ratio")


def test_equal_rights_of_measure_7_are_reported():
    assert check().to_dict()["equal_rights"] is True
    before = market_entry(frame([SITE], **APPLICATION), ctx(), on=BEFORE_PLAN)
    assert before.to_dict()["equal_rights"] is False
