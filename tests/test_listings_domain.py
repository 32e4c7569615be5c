"""Listings domain: terms against policy (boundaries), the state machine, roles, publication."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from landmarket.errors import Conflict, Forbidden, InvalidInput, NotFound
from landmarket.listings import (
    Action,
    AssetKind,
    Consent,
    Contact,
    ListingQuery,
    ListingTerms,
    Method,
    ParcelFacts,
    State,
    SupplyMode,
    check_publication,
    next_state,
    summary_text,
    validate_terms,
)
from landmarket.listings import permissions as perm
from landmarket.policy import load_policy
from tests.eligibility_helpers import AFTER_PLAN, BEFORE_PLAN, PARCEL_CODE, context, rect, to4490

POLICY = load_policy(AFTER_PLAN)
TERMS = ListingTerms(
    asset_kind=AssetKind.operational_land,
    method=Method.transfer,
    supply_mode=SupplyMode.transfer,
    intended_uses=("industrial",),
    term_years=50,
    price_per_mu=150_000.0,
    consent=Consent(meeting_date=date(2025, 12, 1), votes_for=2, votes_total=3),
    contact=Contact("村委会 / village committee", "023-0000000"),
)


def valid(terms=TERMS, area_mu=15.0, land_use="0601", policy=POLICY, **kw):
    return validate_terms(terms, area_mu=area_mu, land_use_code=land_use, policy=policy, **kw)


def fields_of(exc: pytest.ExceptionInfo) -> set[str]:
    return {p.field for p in exc.value.problems}


def test_prices_are_derived_both_ways():
    assert valid().reserve_price_total == 2_250_000.0
    both = valid(replace(TERMS, price_per_mu=None, reserve_price_total=1_000_000.0), area_mu=3.0)
    assert both.price_per_mu == pytest.approx(333_333.33)
    ok = replace(TERMS, reserve_price_total=2_250_007.0)  # per-mu price rounded to the yuan
    assert valid(ok).price_per_mu == 150_000.0
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, reserve_price_total=2_400_000.0))
    assert fields_of(exc) == {"price_per_mu"}
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, price_per_mu=None))
    assert fields_of(exc) == {"reserve_price_total"}


@pytest.mark.parametrize(
    ("uses", "mode", "years", "ok"),
    [
        (("industrial",), SupplyMode.transfer, 50, True),  # exactly the maximum
        (("industrial",), SupplyMode.transfer, 51, False),
        (("industrial", "commercial"), SupplyMode.transfer, 41, False),  # commercial binds: 40
        (("industrial", "commercial"), SupplyMode.transfer, 40, True),
        (("industrial",), SupplyMode.flexible_term, 49, True),
        (("industrial",), SupplyMode.flexible_term, 50, False),  # flexible means shorter
    ],
)
def test_term_bounded_by_the_use(uses, mode, years, ok):
    terms = replace(TERMS, intended_uses=uses, supply_mode=mode, term_years=years)
    if ok:
        assert valid(terms).term_years == years
    else:
        with pytest.raises(InvalidInput) as exc:
            valid(terms)
        assert fields_of(exc) == {"term_years"}


@pytest.mark.parametrize(("mode", "years", "ok"), [("lease", 20, True), ("lease", 21, False),
                                                   ("long_term_lease", 20, True),
                                                   ("long_term_lease", 21, False)])  # fmt: skip
def test_leases_capped_at_twenty_years(mode, years, ok):
    terms = replace(TERMS, method=Method.lease, supply_mode=SupplyMode(mode), term_years=years)
    if ok:
        valid(terms)
    else:
        with pytest.raises(InvalidInput, match="listings.lease_max_years|long_term_lease"):
            valid(terms)


def test_lease_then_transfer_needs_a_short_lease():
    base = replace(TERMS, supply_mode=SupplyMode.lease_then_transfer, term_years=50)
    assert valid(replace(base, lease_years=5)).lease_years == 5
    for lease in (None, 6, 0):
        with pytest.raises(InvalidInput) as exc:
            valid(replace(base, lease_years=lease))
        assert fields_of(exc) == {"lease_years"}


def test_method_and_mode_must_fit_together_and_commodity_housing_is_refused():
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, method=Method.lease, supply_mode=SupplyMode.transfer))
    assert fields_of(exc) == {"supply_mode"}
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, intended_uses=("commodity_housing",)))
    assert fields_of(exc) == {"intended_uses"}
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, intended_uses=("residential",), term_years=50))
    assert fields_of(exc) == {"intended_uses"}
    with pytest.raises(InvalidInput) as exc:
        valid(replace(TERMS, intended_uses=("casino",)))
    assert "unknown use" in str(exc.value)


def test_publication_needs_consent_record_and_contact():
    bare = replace(TERMS, consent=Consent(), contact=None)
    valid(bare)  # a draft may be incomplete
    with pytest.raises(InvalidInput) as exc:
        valid(bare, for_publication=True)
    assert fields_of(exc) == {"consent.meeting_date", "consent.ratio", "contact"}
    future = replace(TERMS, consent=Consent(meeting_date=date(2030, 1, 1), ratio=0.9))
    with pytest.raises(InvalidInput) as exc:
        valid(future, today=date(2026, 1, 1))
    assert fields_of(exc) == {"consent.meeting_date"}


FARMHOUSE = replace(
    TERMS,
    asset_kind=AssetKind.idle_farmhouse,
    method=Method.lease,
    supply_mode=SupplyMode.lease,
    intended_uses=("tourism",),
    term_years=20,
)


def test_idle_farmhouses_for_lease_on_homestead_land_only():
    assert valid(FARMHOUSE, area_mu=0.3, land_use="0702").term_years == 20
    with pytest.raises(InvalidInput) as exc:
        valid(FARMHOUSE, area_mu=0.3, land_use="0601")
    assert fields_of(exc) == {"asset_kind"}
    with pytest.raises(InvalidInput) as exc:
        valid(
            replace(FARMHOUSE, method=Method.transfer, supply_mode=SupplyMode.transfer),
            land_use="0702",
        )
    assert fields_of(exc) == {"method", "supply_mode"}
    with pytest.raises(InvalidInput) as exc:
        valid(replace(FARMHOUSE, term_years=21), land_use="0702")
    assert "listings.farmhouse.max_years" in str(exc.value)
    with pytest.raises(InvalidInput, match="not open yet"):  # before measure 7
        valid(FARMHOUSE, land_use="0702", policy=load_policy(BEFORE_PLAN))


def test_state_machine_paths_and_refusals():
    s = next_state(State.draft, Action.publish)
    assert s is State.published
    assert next_state(s, Action.offer) is State.under_offer
    assert next_state(State.under_offer, Action.release) is State.published
    assert next_state(State.under_offer, Action.conclude) is State.concluded
    for state in (State.draft, State.published, State.under_offer):
        assert next_state(state, Action.withdraw) is State.withdrawn
    for state, action in [
        (State.draft, Action.offer),
        (State.published, Action.publish),
        (State.published, Action.edit),
        (State.published, Action.conclude),
        (State.concluded, Action.withdraw),
        (State.withdrawn, Action.publish),
    ]:
        with pytest.raises(Conflict, match="cannot"):
            next_state(state, action)


V1, V2 = "500111960001", "500111960002"


@pytest.mark.parametrize(
    ("role", "village", "allowed"),
    [
        ("collective", V1, set(Action)),
        ("collective", V2, set()),
        ("bureau", None, {Action.withdraw}),
        ("investor", None, set()),
        ("public", None, set()),
    ],
)
def test_who_may_act_on_a_village_listing(role, village, allowed):
    for action in Action:
        if action in allowed:
            perm.require_action(role, village, V1, action)
        else:
            with pytest.raises(Forbidden):
                perm.require_action(role, village, V1, action)


def test_drafts_are_invisible_outside_the_owner_and_bureau():
    for role, village in (("investor", None), ("public", None), ("collective", V2)):
        with pytest.raises(NotFound):
            perm.require_visible(role, village, V1, "draft", "L1")
        perm.require_visible(role, village, V1, "published", "L1")
    perm.require_visible("collective", V1, V1, "draft", "L1")
    perm.require_visible("bureau", None, V1, "withdrawn", "L1")
    with pytest.raises(Forbidden):
        perm.require_create("bureau", None, V1)
    with pytest.raises(Forbidden):
        perm.require_create("collective", V2, V1)


SITE = rect(0, 0, 100, 100)  # 15 mu


def facts(**kw):
    base = dict(parcel_code=PARCEL_CODE, land_use_code="0601", geometry=to4490(SITE),
                area_m2=10_000.0, registered=True, disputed=False)  # fmt: skip
    return ParcelFacts(**{**base, **kw})


def ctx(**kw):
    return context(plan=[(rect(-500, -500, 1000, 1000), "1001")], **kw)


def test_publication_runs_market_entry_for_every_use():
    terms = replace(TERMS, intended_uses=("industrial", "commercial"), term_years=40)
    pub = check_publication(facts(), terms, ctx(), POLICY)
    assert pub.publishable and len(pub.verdicts) == 2
    assert pub.summary() == {"verdict": "eligible", "policy_version": POLICY.version,
                             "pbf_m2": 0.0, "redline_m2": 0.0, "plan_code": "1001"}  # fmt: skip
    assert "PBF 0 m²" in summary_text(pub.summary())


def test_publication_blocked_with_the_failed_rules():
    pbf = [rect(90, 0, 50, 100)]  # 1000 m² of the site is permanent basic farmland
    pub = check_publication(facts(), TERMS, ctx(pbf=pbf), POLICY)
    assert not pub.publishable and pub.verdict == "ineligible"
    problems = pub.problems(f"parcel {PARCEL_CODE}")
    assert [p.field for p in problems] == ["market_entry.pbf_overlap"]
    assert "1,000" in problems[0].problem
    low = replace(TERMS, consent=Consent(date(2025, 12, 1), votes_for=19, votes_total=29))
    pub = check_publication(facts(), low, ctx(), POLICY)
    assert [p.field for p in pub.problems("x")] == ["market_entry.consent"]
    unknown = check_publication(facts(disputed=None), TERMS, ctx(), POLICY)
    assert unknown.verdict == "needs_review" and not unknown.publishable
    declared = check_publication(facts(disputed=None), TERMS, ctx(), POLICY, dispute_free=True)
    assert declared.publishable


def test_farmhouse_publication_rules():
    code = PARCEL_CODE[:12] + "JC" + PARCEL_CODE[14:]
    ok = check_publication(facts(parcel_code=code, land_use_code="0702"), FARMHOUSE, ctx(), POLICY)
    assert ok.publishable and ok.verdicts[0].check == "farmhouse_lease"
    bad = check_publication(
        facts(parcel_code=code, land_use_code="0702", registered=False), FARMHOUSE, ctx(), POLICY
    )
    assert [p.field for p in bad.problems("x")] == ["farmhouse_lease.registered"]


def test_query_validation():
    q = ListingQuery(min_area_mu=1, max_area_mu=10, near=(105.7, 29.7), within_km=5)
    assert ListingQuery.from_dict(q.to_dict()) == q
    with pytest.raises(InvalidInput) as exc:
        ListingQuery(min_area_mu=10, max_area_mu=1, supply_mode="barter", near=(105.7, 29.7))
    assert fields_of(exc) == {"min_area_mu", "supply_mode", "near"}
    with pytest.raises(InvalidInput):
        ListingQuery.from_dict({"colour": "red"})
