"""Mixed industrial and M0 compliance: boundaries of every limit, flags, terms, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from landmarket.errors import InvalidInput
from landmarket.policy import load_policy
from landmarket.zoning.compliance import REGISTRY, check_proposal, mixed_term
from landmarket.zoning.proposal import proposal_from_dict

ON = date(2026, 1, 1)


@pytest.fixture(scope="module")
def policy():
    return load_policy(ON)


def m0(**changes):
    """An M0 proposal on 1 ha that passes every rule: FAR 3.0, supporting share 30 %, green 15 %."""
    data = {
        "id": "m0-test",
        "land_area_m2": 10000,
        "floor_area_m2": {"rd": 21000, "office": 5000, "supporting": 4000},
        "land_use_code": "100100",
        "in_approved_zone": True,
        "green_ratio": 0.15,
    }
    data.update(changes)
    return proposal_from_dict(data)


def statuses(verdict):
    return {r.rule_id: r.status for r in verdict.rules}


def test_m0_at_every_limit_passes(policy):
    verdict = check_proposal(m0(), policy)
    assert verdict.verdict == "eligible"
    s = statuses(verdict)
    assert s["zoning.far"] == "pass" and verdict.rule("zoning.far").value == 3.0
    assert verdict.rule("zoning.far").threshold == {"min": 3.0, "max": 5.0}
    assert s["zoning.supporting_floor_share"] == "pass"
    assert verdict.rule("zoning.supporting_floor_share").value == 0.3
    assert s["zoning.approved_zone"] == "pass" and s["zoning.no_split"] == "pass"
    assert verdict.to_dict()["profile"] == "m0"
    # M0 has no land-share or building-density rule; industrial-only rules are absent, not "info".
    assert "zoning.supporting_land_share" not in s and "zoning.building_density" not in s


def test_supporting_share_just_above_the_limit_fails(policy):
    # 1 m² more of dorms: 4001 / 30001 > 30 %; FAR stays within 3.0–5.0.
    verdict = check_proposal(
        m0(floor_area_m2={"rd": 21000, "office": 5000, "supporting": 4001}), policy
    )
    assert verdict.rule("zoning.supporting_floor_share").status == "fail"
    assert verdict.verdict == "ineligible" and verdict.failed == ["zoning.supporting_floor_share"]


@pytest.mark.parametrize(
    ("rd", "status"),
    [(20999, "fail"), (21000, "pass"), (41000, "pass"), (41001, "fail")],
)
def test_far_range_bounds(policy, rd, status):
    # supporting kept small so only FAR moves: total = rd + 9000 over 10000 m².
    p = m0(floor_area_m2={"rd": rd, "office": 5000, "supporting": 4000})
    assert check_proposal(p, policy).rule("zoning.far").status == status


@pytest.mark.parametrize(
    ("green", "status"), [(0.0999, "fail"), (0.10, "pass"), (0.20, "pass"), (0.2001, "fail")]
)
def test_green_ratio_range(policy, green, status):
    assert check_proposal(m0(green_ratio=green), policy).rule("zoning.green_ratio").status == status


def test_missing_green_ratio_needs_review(policy):
    verdict = check_proposal(m0(green_ratio=None), policy)
    assert verdict.rule("zoning.green_ratio").status == "needs_review"
    assert verdict.verdict == "needs_review"


def test_m0_outside_an_approved_zone_fails(policy):
    verdict = check_proposal(m0(in_approved_zone=False), policy)
    assert verdict.rule("zoning.approved_zone").status == "fail"
    assert "渝规资〔2021〕710号" in verdict.rule("zoning.approved_zone").source


@pytest.mark.parametrize("flag", ["split_transfer", "split_sale", "split_mortgage"])
def test_m0_split_flags_fail(policy, flag):
    rule = check_proposal(m0(**{flag: True}), policy).rule("zoning.no_split")
    assert rule.status == "fail" and rule.value == [flag]


def industrial(**changes):
    data = {
        "land_area_m2": 20000,
        "floor_area_m2": {"industrial": 25500, "office": 3000, "supporting": 1500},
        "land_use_code": "1001",
        "building_density": 0.30,
        "green_ratio": 0.20,
        "supporting_land_m2": 1400,  # 7 % of 20000
    }
    data.update(changes)
    return proposal_from_dict(data)


def test_industrial_profile_limits(policy):
    verdict = check_proposal(industrial(), policy)
    s = statuses(verdict)
    assert verdict.to_dict()["profile"] == "industrial"
    # Land 7 % exactly; density 30 %; green 20 %; no commercial floor area. The 15 % office and
    # living floor share is a standard-land listing's condition, not a rule of industrial land.
    assert s == {
        "zoning.far": "info",  # no FAR limit for industrial land in the policy data
        "zoning.commercial_floor_share": "pass",
        "zoning.supporting_land_share": "pass",
        "zoning.green_ratio": "pass",
        "zoning.building_density": "pass",
        "zoning.term": "info",
    }
    over = check_proposal(industrial(supporting_land_m2=1401, building_density=0.2999), policy)
    assert over.rule("zoning.supporting_land_share").status == "fail"
    assert over.rule("zoning.building_density").status == "fail"
    assert "国土资发〔2008〕24号" in over.rule("zoning.building_density").source
    assert (
        check_proposal(industrial(supporting_land_m2=None), policy)
        .rule("zoning.supporting_land_share")
        .status
        == "needs_review"
    )


def test_commercial_floor_on_industrial_land_is_capped(policy):
    cap = policy["zoning.industrial.commercial_floor_share_max"]
    assert cap.value == 15 and "国土资规〔2015〕5号" in cap.source and cap.provisional
    ninety = industrial(floor_area_m2={"industrial": 3000, "commercial": 27000})
    rule = check_proposal(ninety, policy).rule("zoning.commercial_floor_share")
    assert rule.status == "fail" and rule.value == 0.9 and rule.threshold["max"] == 0.15
    assert check_proposal(ninety, policy).verdict == "ineligible"
    # Exactly 15 % passes, one m² more fails.
    at = industrial(floor_area_m2={"industrial": 25500, "commercial": 4500})
    assert check_proposal(at, policy).rule("zoning.commercial_floor_share").status == "pass"
    above = industrial(floor_area_m2={"industrial": 25499, "commercial": 4501})
    assert check_proposal(above, policy).rule("zoning.commercial_floor_share").status == "fail"
    # Commercial floor area on M0 land counts in the supporting share instead.
    assert "zoning.commercial_floor_share" not in statuses(check_proposal(m0(), policy))


def test_zoning_titles_follow_the_policy(policy):
    rule = check_proposal(industrial(), policy).rule("zoning.commercial_floor_share")
    assert rule.title == "商业建筑面积占比不超过15% / commercial floor-area share at most 15 %"
    bureau = load_policy(ON, overrides={"zoning.industrial.commercial_floor_share_max": 25})
    ninety = industrial(floor_area_m2={"industrial": 22000, "commercial": 8000})
    rule = check_proposal(ninety, bureau).rule("zoning.commercial_floor_share")
    assert "25%" in rule.title and "25 %" in rule.title and "15" not in rule.title
    assert rule.status == "fail"  # 26.7 % > 25 %
    m0_rule = check_proposal(m0(), bureau).rule("zoning.supporting_floor_share")
    assert m0_rule.title.startswith("配套设施建筑面积占比不超过30%")


def test_mixed_use_term_rules(policy):
    # Office (commercial term, 40 y) dominates by floor area over R&D (science, 50 y).
    p = m0(floor_area_m2={"office": 16000, "rd": 14000}, requested_term_years=50)
    years, how, _ = mixed_term(p, policy)
    assert (years, how) == (40, "dominant_floor_area:office")
    assert check_proposal(p, policy).rule("zoning.term").status == "fail"
    shortest = load_policy(ON, overrides={"zoning.mixed_use_term_rule": "shortest"})
    q = m0(requested_term_years=40)  # rd dominant (50) but office present (40)
    assert mixed_term(q, policy)[0] == 50 and mixed_term(q, shortest)[0] == 40
    assert check_proposal(q, shortest).rule("zoning.term").status == "pass"
    term = check_proposal(m0(), policy).rule("zoning.term")
    assert term.status == "info" and term.value == 50 and term.provisional


def test_ties_take_the_shorter_term(policy):
    p = m0(floor_area_m2={"office": 15000, "rd": 15000})
    assert mixed_term(p, policy)[0] == 40


def test_rules_carry_sources_and_versions(policy):
    verdict = check_proposal(m0(), policy)
    for r in verdict.rules:
        assert r.source and r.source != "—"
        assert r.policy_version in {p.version for p in policy.params.values()}
    assert set(REGISTRY) >= {"zoning.far", "zoning.supporting_floor_share", "zoning.term"}


def test_other_land_use_codes_are_rejected(policy):
    with pytest.raises(InvalidInput) as err:
        check_proposal(m0(land_use_code="0702"), policy)
    assert err.value.problems[0].field == "land_use_code"


def test_bad_proposal_lists_every_problem():
    with pytest.raises(InvalidInput) as err:
        proposal_from_dict(
            {
                "land_area_m2": -1,
                "floor_area_m2": {"rd": "many", "hotel": 10},
                "green_ratio": 1.5,
                "split_sale": "yes",
            }
        )
    fields = {p.field for p in err.value.problems}
    assert fields >= {
        "land_area_m2",
        "floor_area_m2.rd",
        "floor_area_m2.hotel",
        "land_use_code",
        "green_ratio",
        "split_sale",
    }


def test_land_area_from_geometry():
    from shapely.geometry import box

    from landmarket.areas import area_m2

    geom = box(106.50, 29.50, 106.501, 29.501)
    p = proposal_from_dict(
        {"geometry": geom, "floor_area_m2": {"industrial": 10000}, "land_use_code": "1001"}
    )
    assert p.land_area_m2 == area_m2(geom) and 9000 < p.land_area_m2 < 12000
