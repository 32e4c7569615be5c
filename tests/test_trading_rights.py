"""Registered rights: one live right per parcel (also under 50 racing clients), history, endings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geodata.trading.rights import (
    end_right,
    live_right_for_parcel,
    parcel_rights,
    register_right,
    rights_of_holder,
)
from landmarket.errors import Conflict, Forbidden, InvalidInput
from landmarket.trading.rights import RightStatus, term_end
from tests.trading_support import race

pytest_plugins = ["tests.trading_world"]  # fixtures: tworld, ttx

ON = date(2026, 6, 1)


def _fields(code: str, holder, **kw):
    base = dict(
        parcel_code=code,
        holder_id=holder.user_id,
        holder_name="重庆某制造有限公司",
        method="transfer",
        use="industrial",
        term_years=50,
        starts_on=ON,
        registered_on=ON,
        basis="initial",
    )
    return base | kw


def test_a_registered_right_is_live_with_its_unit_code_and_term(tworld, ttx):
    code = tworld.next_plot()
    inv = tworld.investors[0]
    right = register_right(ttx, tworld.bureau, **_fields(code, inv))
    assert right.status is RightStatus.live
    assert right.unit_code == f"{code}W00000000" and len(right.unit_code) == 28
    assert right.ends_on == date(2076, 6, 1)
    assert right.area_m2 == pytest.approx(10000, abs=0.5)
    assert right.right_no.startswith("渝(2026)大足区集体建设用地使用权第")
    assert live_right_for_parcel(ttx, code, ON).right_no == right.right_no
    assert [r.right_no for r in rights_of_holder(ttx, inv.user_id, ON)] == [right.right_no]


def test_a_second_live_right_on_the_parcel_is_refused(tworld, ttx):
    code = tworld.next_plot()
    register_right(ttx, tworld.bureau, **_fields(code, tworld.investors[0]))
    with pytest.raises(Conflict, match="已有有效权利"):
        register_right(ttx, tworld.bureau, **_fields(code, tworld.investors[1]))


def test_a_lease_ends_at_its_term_and_the_parcel_is_free_again(tworld, ttx):
    code = tworld.next_plot()
    lease = register_right(
        ttx, tworld.bureau, **_fields(code, tworld.investors[0], method="lease", term_years=5)
    )
    end = term_end(ON, 5)
    assert live_right_for_parcel(ttx, code, date(2031, 5, 31)).right_no == lease.right_no
    assert live_right_for_parcel(ttx, code, end) is None
    again = register_right(
        ttx, tworld.bureau, **_fields(code, tworld.investors[1], starts_on=end, registered_on=end)
    )
    statuses = [r.status for r in parcel_rights(ttx, code, end)]
    assert statuses == [RightStatus.expired, RightStatus.live]
    assert again.holder_id == tworld.investors[1].user_id


def test_a_right_starting_later_is_pending_and_already_blocks_the_parcel(tworld, ttx):
    code = tworld.next_plot()
    register_right(
        ttx, tworld.bureau, **_fields(code, tworld.investors[0], starts_on=date(2027, 1, 1))
    )
    assert live_right_for_parcel(ttx, code, ON).status is RightStatus.pending
    with pytest.raises(Conflict):
        register_right(ttx, tworld.bureau, **_fields(code, tworld.investors[1]))


def test_a_correction_is_a_new_entry_and_the_old_one_stays_as_history(tworld, ttx):
    code = tworld.next_plot()
    wrong = register_right(
        ttx, tworld.bureau, **_fields(code, tworld.investors[0], use="commercial")
    )
    fixed = register_right(
        ttx,
        tworld.bureau,
        **_fields(code, tworld.investors[0], basis="correction", supersedes=wrong.right_no),
    )
    history = parcel_rights(ttx, code, ON)
    assert [(r.right_no, r.status) for r in history] == [
        (wrong.right_no, RightStatus.corrected),
        (fixed.right_no, RightStatus.live),
    ]
    assert history[0].use == "commercial"  # the wrong entry is kept as it was
    # The application role is refused by privilege; the owner by the trigger (test_db_roles).
    with pytest.raises(DBAPIError, match="permission denied"):
        ttx.execute(text("UPDATE land_rights SET use = 'x' WHERE id = :i"), {"i": wrong.id})


def test_an_ended_right_frees_the_parcel_and_cannot_end_twice(tworld, ttx):
    code = tworld.next_plot()
    right = register_right(ttx, tworld.bureau, **_fields(code, tworld.investors[0]))
    ended = end_right(
        ttx, tworld.bureau, right.right_no, "recovered", date(2026, 7, 1), "闲置两年收回"
    )
    assert ended.status is RightStatus.ended
    assert live_right_for_parcel(ttx, code, date(2026, 6, 30)).right_no == right.right_no
    assert live_right_for_parcel(ttx, code, date(2026, 7, 1)) is None
    with pytest.raises(Conflict):
        end_right(ttx, tworld.bureau, right.right_no, "surrendered", date(2026, 7, 2), "again")


def test_bad_fields_are_named_and_only_the_bureau_registers(tworld, ttx):
    code = tworld.next_plot()
    with pytest.raises(InvalidInput) as exc:
        register_right(
            ttx, tworld.bureau, **_fields(code, tworld.investors[0], holder_name=" ", term_years=0)
        )
    assert {p.field for p in exc.value.problems} == {"holder", "term_years"}
    with pytest.raises(Forbidden):
        register_right(ttx, tworld.collective, **_fields(code, tworld.investors[0]))


def test_fifty_clients_registering_one_parcel_make_exactly_one_right(tworld):
    code = tworld.next_plot()
    results = race(
        50,
        lambda i: register_right(
            tworld.engine, tworld.bureau, **_fields(code, tworld.investors[i % 50])
        ),
    )
    assert sorted(set(results)) == ["conflict", "ok"], results
    assert results.count("ok") == 1
    with tworld.engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM land_rights WHERE parcel_code = :c"), {"c": code}
        )
        assert n.scalar() == 1


def test_a_mortgaged_right_transfers_only_with_the_creditors_consent(tworld, ttx):
    from geodata.trading.mortgages import (
        consent_to_transfer,
        get_mortgage,
        mortgages_of,
        register_mortgage,
        release_mortgage,
    )

    code = tworld.next_plot()
    holder, buyer, bank = tworld.investors[0], tworld.investors[1], tworld.investors[2]
    right = register_right(ttx, tworld.bureau, **_fields(code, holder))
    m = register_mortgage(ttx, tworld.bureau, right.right_no, creditor_name="某农商银行",
                          creditor_id=bank.user_id, amount="5000000", starts_on=ON,
                          ends_on=date(2031, 6, 1), registered_on=ON)  # fmt: skip
    assert (m["status"], m["amount"]) == ("live", "5000000.00")
    assert [x["mortgage_no"] for x in mortgages_of(ttx, holder, right.right_no)] == [
        m["mortgage_no"]
    ]
    assert mortgages_of(ttx, buyer) == []
    with pytest.raises(Forbidden):
        get_mortgage(ttx, buyer, m["mortgage_no"])
    transfer = _fields(
        code, buyer, basis="transfer", supersedes=right.right_no, holder_name="受让公司"
    )
    with pytest.raises(Conflict, match="consent"):
        register_right(ttx, tworld.bureau, **transfer)
    with pytest.raises(Forbidden):
        consent_to_transfer(ttx, buyer, m["mortgage_no"], ON)
    assert consent_to_transfer(ttx, bank, m["mortgage_no"], ON, "同意转让")["transfer_consent_on"]
    new = register_right(ttx, tworld.bureau, **transfer)
    assert [r.status for r in parcel_rights(ttx, code, ON)] == [
        RightStatus.transferred,
        RightStatus.live,
    ]
    assert new.holder_id == buyer.user_id
    assert release_mortgage(ttx, tworld.bureau, m["mortgage_no"], ON)["status"] == "released"
    with pytest.raises(Conflict):
        release_mortgage(ttx, tworld.bureau, m["mortgage_no"], ON)
