"""Policy data: versions by effective date, sources on every number, bureau overrides, `policy show`."""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from landmarket.errors import InvalidInput
from landmarket.policy import PACKAGED_DIR, load_policy, policy_from_settings, read_layer
from tests.eligibility_helpers import AFTER_PLAN, BEFORE_PLAN

# Every number the domain brief gives, as (key, value, unit).
DOMAIN_NUMBERS = [
    ("approval.state_council_arable_area", 35, "ha"),
    ("approval.state_council_other_area", 70, "ha"),
    ("approval.delegation_max_plot_area", 15, "mu"),
    ("approval.delegation_days_saved", 15, "day"),
    ("approval.parallel_path_days_saved_min", 30, "day"),
    ("approval.parallel_path_days_saved_max", 60, "day"),
    ("market_entry.consent_min", Fraction(2, 3), "ratio"),
    ("market_entry.max_term.industrial", 50, "year"),
    ("market_entry.max_term.commercial", 40, "year"),
    ("market_entry.max_term.tourism", 40, "year"),
    ("market_entry.max_term.entertainment", 40, "year"),
    ("market_entry.max_term.education", 50, "year"),
    ("market_entry.max_term.science", 50, "year"),
    ("market_entry.max_term.culture", 50, "year"),
    ("market_entry.max_term.health", 50, "year"),
    ("market_entry.max_term.sports", 50, "year"),
    ("market_entry.max_term.comprehensive", 50, "year"),
    ("market_entry.max_term.other", 50, "year"),
    ("market_entry.max_term.residential", 70, "year"),
    ("market_entry.excluded_uses", ["residential", "commodity_housing"], "use"),
    ("market_entry.increment_fee_rate_min", 20, "%"),
    ("market_entry.increment_fee_rate_max", 50, "%"),
    ("reclamation.ancillary_cap_ratio", 1.5, "times"),
    ("reclamation.slope_limit", 25, "degree"),
    ("reclamation.slope_grades", [2, 6, 15, 25], "degree"),
    ("ticket.household_share", 85, "%"),
    ("ticket.collective_share", 15, "%"),
    ("ticket.min_household_price", 96000, "yuan/mu"),
    ("ticket.min_collective_price", 17000, "yuan/mu"),
    ("ticket.premium_household_price", 120000, "yuan/mu"),
    ("ticket.premium_collective_price", 21000, "yuan/mu"),
    ("three_lines.sliver_tolerance", 5.0, "m2"),
    ("industrial.reserve_price_ratio", 70, "%"),
    ("m0.far_min", 3.0, "ratio"),
    ("m0.far_max", 5.0, "ratio"),
    ("m0.supporting_floor_share_max", 30, "%"),
    ("m0.green_ratio_min", 10, "%"),
    ("m0.green_ratio_max", 20, "%"),
    ("standard_land.office_living_land_share_max", 7, "%"),
    ("standard_land.office_living_floor_share_max", 15, "%"),
    ("standard_land.green_ratio_max", 20, "%"),
    ("standard_land.investment_min", 2_500_000, "yuan/mu"),
    ("urban_renewal.floor_area_support", 15, "%"),
]
PROVISIONAL = [
    "three_lines.sliver_tolerance",
    "market_entry.excluded_uses",
    "reclamation.ancillary_cap_ratio",
    "approval.county_delegation",
    "approval.delegation_levels",
    "approval.delegation_max_plot_area",
    "approval.pilot_entrustment",
    "ticket.min_household_price",
    "ticket.premium_collective_price",
    "ticket.two_fees.paid_use_fee",
    "ticket.two_fees.reclamation_fee",
]


@pytest.mark.parametrize(("key", "value", "unit"), DOMAIN_NUMBERS)
def test_every_domain_number_is_policy_data_with_source(key, value, unit):
    param = load_policy(AFTER_PLAN)[key]
    assert (param.value, param.unit) == (value, unit)
    assert param.source.strip() and param.version


def test_provisional_numbers_are_marked_and_unsourced_fees_left_unset():
    policy = load_policy(AFTER_PLAN)
    assert all(policy[key].provisional for key in PROVISIONAL)
    fees = policy.group("ticket.two_fees")
    assert {p.name for p in fees.values()} == {
        "新增建设用地土地有偿使用费 / paid-use fee for new construction land",
        "耕地开垦费 / farmland reclamation fee",
    }
    assert all(p.value is None for p in fees.values())


def test_action_plan_in_force_from_its_issue_date():
    before, on_day = load_policy(BEFORE_PLAN), load_policy(date(2025, 11, 23))
    assert before.version == "2020-01-01_land-admin-law"
    assert on_day.version == "2025-11-23_chongqing-action-plan"
    assert before.flag("approval.county_delegation") is False
    assert "approval.delegation_max_plot_area" not in before
    assert on_day.flag("approval.county_delegation") is True
    assert on_day.area_m2("approval.delegation_max_plot_area") == pytest.approx(10000.0)
    assert before["ticket.two_fee_uses"].value == ["operational"]
    assert "industrial" in on_day["ticket.two_fee_uses"].value
    # A parameter the plan does not repeat keeps the law's version.
    assert on_day["approval.state_council_arable_area"].version == "2020-01-01_land-admin-law"


def test_no_policy_before_the_law_is_an_error_naming_the_date():
    with pytest.raises(InvalidInput) as info:
        load_policy(date(2019, 12, 31))
    assert info.value.problems[0].field == "on"
    assert "2019-12-31" in info.value.problems[0].problem


def test_packaged_files_parse_and_carry_sources():
    for path in sorted(PACKAGED_DIR.glob("*.toml")):
        layer = read_layer(path)
        assert path.name.startswith(layer.effective.isoformat())
        for key, raw in layer.params.items():
            assert raw["source"].strip(), key


OVERRIDE = """
version = "dazu-bureau-2026-01"
effective = 2026-01-01
source = "大足区规划自然资源局通知 / Dazu bureau notice 2026-01"

[three_lines.sliver_tolerance]
value = 2.0
source = "大足区规划自然资源局: 碎屑容差2平方米 / Dazu bureau: 2 m² sliver tolerance"
"""


def test_override_directory_corrects_a_provisional_number(tmp_path):
    (tmp_path / "2026-01-01_dazu.toml").write_text(OVERRIDE, encoding="utf-8")
    before = load_policy(date(2025, 12, 31), policy_dir=tmp_path)
    after = load_policy(date(2026, 1, 2), policy_dir=tmp_path)
    assert before["three_lines.sliver_tolerance"].value == 5.0
    param = after["three_lines.sliver_tolerance"]
    assert (param.value, param.unit, param.version) == (2.0, "m2", "dazu-bureau-2026-01")
    assert param.provisional is False and "Dazu bureau" in param.source
    assert after.layers[-1].override is True


def test_override_of_the_wrong_kind_or_without_source_is_refused(tmp_path):
    bad_kind = OVERRIDE.replace("value = 2.0", 'value = "two"')
    (tmp_path / "a.toml").write_text(bad_kind, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_policy(date(2026, 1, 2), policy_dir=tmp_path)
    assert info.value.problems[0].field == "three_lines.sliver_tolerance"
    no_source = OVERRIDE.replace('source = "大足区规划自然资源局: 碎屑', 'note = "')
    (tmp_path / "a.toml").write_text(no_source, encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_policy(date(2026, 1, 2), policy_dir=tmp_path)


def test_settings_override_of_the_sliver_tolerance():
    settings = SimpleNamespace(policy_dir=None, sliver_tolerance_m2=1.0)
    param = policy_from_settings(settings, AFTER_PLAN)["three_lines.sliver_tolerance"]
    assert (param.value, param.version) == (1.0, "settings")


def _cli() -> typer.Typer:
    from cli.policy import register

    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Test root."""

    return app


def test_policy_show_prints_the_version_and_sources_in_force(monkeypatch, tmp_path):
    from geodata.settings import get_settings

    monkeypatch.delenv("LANDMARKET_POLICY_DIR", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    before = runner.invoke(_cli(), ["policy", "show", "--on", "2025-11-22"])
    assert before.exit_code == 0, before.output
    assert "政策版本 2020-01-01_land-admin-law" in before.output
    assert "approval.delegation_max_plot_area" not in before.output
    after = runner.invoke(_cli(), ["policy", "show", "--on", "2025-11-23", "--key", "approval."])
    assert "政策版本 2025-11-23_chongqing-action-plan" in after.output
    assert "approval.delegation_max_plot_area = 15 mu  <2025-11-23_chongqing-action-plan>" in (
        after.output
    )
    assert "    土地管理法(2019) 第四十六条\n" in after.output  # the Chinese half of the source
    assert "market_entry." not in after.output
    as_json = runner.invoke(_cli(), ["policy", "show", "--on", "2026-01-02", "--json"])
    data = json.loads(as_json.output)
    assert data["params"]["market_entry.consent_min"]["value"] == "2/3"
    assert data["params"]["three_lines.sliver_tolerance"]["provisional"] is True
    # The bureau's override directory from the settings shows up as a layer.
    (tmp_path / "2026-01-01_dazu.toml").write_text(OVERRIDE, encoding="utf-8")
    monkeypatch.setenv("LANDMARKET_POLICY_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        shown = runner.invoke(_cli(), ["policy", "show", "--on", "2026-01-02", "--key", "three"])
    finally:
        get_settings.cache_clear()
    assert "dazu-bureau-2026-01 (覆盖)" in shown.output
    assert "three_lines.sliver_tolerance = 2.0 m2  <dazu-bureau-2026-01>" in shown.output
    too_early = runner.invoke(_cli(), ["policy", "show", "--on", "2019-06-01"])
    assert too_early.exit_code == 1


def test_supplements_do_not_rename_the_policy_version(monkeypatch, tmp_path):
    from landmarket.policy import loader

    for name in ("2020-01-01_land-admin-law.toml", "2025-11-23_chongqing-action-plan.toml"):
        (tmp_path / name).write_text((PACKAGED_DIR / name).read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "2025-11-23_zz-supplement.toml").write_text(
        'version = "2025-11-23_zz-supplement"\neffective = 2025-11-23\nsource = "test"\n'
        '[zz.extra]\nvalue = 1\nunit = "count"\nsource = "test"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(loader, "PACKAGED_DIR", tmp_path)
    loader._packaged_layers.cache_clear()
    try:
        policy = load_policy(AFTER_PLAN)
        assert policy.version == "2025-11-23_chongqing-action-plan"
        assert policy["zz.extra"].version == "2025-11-23_zz-supplement"
        clash = tmp_path / "2025-11-23_zz-supplement.toml"
        clash.write_text(
            clash.read_text("utf-8").replace("[zz.extra]", "[approval.delegation_days_saved]")
        )
        loader._packaged_layers.cache_clear()
        with pytest.raises(InvalidInput) as info:
            load_policy(AFTER_PLAN)
        assert "also set by" in info.value.problems[0].problem
    finally:
        loader._packaged_layers.cache_clear()


def test_a_platform_default_is_not_date_gated_and_yields_to_laws(tmp_path):
    (tmp_path / "2030-01-01_bureau-default.toml").write_text(
        'version = "2030-01-01_bureau-default"\neffective = 2030-01-01\nplatform_default = true\n'
        'source = "平台默认值 / platform default"\n'
        '[reclamation.slope_limit]\nvalue = 20\nunit = "degree"\nsource = "platform default"\n'
        '[m0.far_min]\nvalue = 2.0\nunit = "ratio"\nsource = "platform default"\n',
        encoding="utf-8",
    )
    early = load_policy(BEFORE_PLAN)
    assert early["m0.office_price_share"].version == "2026-11-22_m0-provisional-price-share"
    assert early.version == "2020-01-01_land-admin-law"  # a default never names the version
    # An override-directory default applies long before its date, below every law that sets it.
    bureau = load_policy(date(2020, 6, 1), policy_dir=tmp_path)
    assert bureau["m0.far_min"].value == 2.0  # no law sets M0 FAR in 2020
    assert bureau["reclamation.slope_limit"].value == 25  # the law's value wins
    with pytest.raises(InvalidInput):
        load_policy(date(2019, 12, 31), policy_dir=tmp_path)  # still no law in force
