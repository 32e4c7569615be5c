"""Stock land (measure 10): checks for anyone; the bureau's records, renewals and lists; the map."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep
from api.errors import problem_responses
from api.params import RecordId
from geodata.services import stock as svc
from geodata.stock import (
    complete_preregistration,
    idle_rights,
    preregister,
    record_construction,
    record_short_term_use,
    renew_right,
    short_term_uses,
    split_right,
)
from landmarket.policy import policy_from_settings
from maps.stock import render_stock_page

OnQuery = Annotated[
    date | None, Query(description="日期(默认今天) / the day asked (default today)")
]
County = Annotated[str | None, Query(pattern=r"^\d{6}$", description="区县代码 / county code")]
PREFIX = "/api/v1/stock"
router = APIRouter(tags=["stock land"], responses=problem_responses(401, 403, 404, 409, 422))


def _on(on: date | None) -> date:
    return on or date.today()


@router.post(f"{PREFIX}/checks/idle", summary="闲置土地认定 / Idle-land check")
def check_idle(
    body: svc.IdleCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Idle a year (20 % fee) or two (recovery), to the day, from the agreed start."""
    return svc.check("idle", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/transfer", summary="转让与预告登记 / Transfer check")
def check_transfer(
    body: svc.TransferCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """25 % of the investment done, creditor consent, a pre-registered buyer's claim."""
    return svc.check("transfer", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/split", summary="工业项目分割登记 / Split check")
def check_split(
    body: svc.SplitCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Units that tile the parcel, floor areas adding up, minimum units, never M0."""
    return svc.check("split", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/renewal", summary="续期 / Renewal check")
def check_renewal(
    body: svc.RenewalCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Within the legal maximum of the use, applied a year ahead, priced by term correction."""
    return svc.check("renewal", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/conversion", summary="用途转换 / Conversion check")
def check_conversion(
    body: svc.ConversionCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Between industrial types or commercial and office, never real estate; price due."""
    return svc.check("conversion", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/short-term", summary="短期利用 / Short-term use check")
def check_short_term(
    body: svc.ShortTermCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Allowed uses, at most the policy's years, no permanent buildings; expiry."""
    return svc.check("short-term", body, policy_from_settings(settings, on), _on(on))


@router.post(f"{PREFIX}/checks/urban-renewal", summary="城市更新面积支持 / Urban-renewal support")
def check_urban_renewal(
    body: svc.UrbanRenewalCheck, settings: SettingsDep, _: CurrentUser, on: OnQuery = None
) -> dict[str, Any]:
    """Extra floor area for added public services, capped by the policy share."""
    return svc.check("urban-renewal", body, policy_from_settings(settings, on), _on(on))


@router.get(f"{PREFIX}/idle", summary="闲置土地清单 / Idle land (bureau)")
def idle_list(
    session: SessionDep, settings: SettingsDep, _: BureauUser, on: OnQuery = None,
    county: County = None,
) -> dict[str, Any]:  # fmt: skip
    """Live rights whose construction is a year or two late on the day, with fee and sources."""
    rows = idle_rights(session, policy_from_settings(settings, on), _on(on), county)
    return {"on": _on(on).isoformat(), "count": len(rows), "rights": rows}


@router.post(
    f"{PREFIX}/rights/{{right_no}}/construction",
    status_code=status.HTTP_201_CREATED,
    summary="登记开工与投资 / Record construction",
)
def construction(
    right_no: str, body: svc.ConstructionBody, session: SessionDep, user: BureauUser
) -> dict[str, Any]:
    """The agreed and actual start of construction and the investment done (append-only)."""
    out = record_construction(session, user, right_no, **body.model_dump())
    session.commit()
    return out


@router.post(
    f"{PREFIX}/rights/{{right_no}}/renewals",
    status_code=status.HTTP_201_CREATED,
    summary="续期登记 / Register a renewal",
)
def renewal(
    right_no: str,
    body: svc.RenewalBody,
    session: SessionDep,
    settings: SettingsDep,
    user: BureauUser,
) -> dict[str, Any]:
    """A renewal right from the old end date, when the renewal check allows it."""
    policy = policy_from_settings(settings, body.applied_on)
    out = renew_right(session, user, policy, right_no, **body.model_dump())
    session.commit()
    return out


@router.post(
    f"{PREFIX}/rights/{{right_no}}/splits",
    status_code=status.HTTP_201_CREATED,
    summary="分割登记 / Register a split",
)
def split(
    right_no: str, body: svc.SplitBody, session: SessionDep, settings: SettingsDep,
    user: BureauUser, on: OnQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """Cut a right's land into unit parcels, each with its own right; never M0."""
    policy = policy_from_settings(settings, on)
    out = split_right(session, user, policy, right_no, floor_area_m2=svc.cents(body.floor_area_m2),
                      units=body.split_units(), on=_on(on))  # fmt: skip
    session.commit()
    return out


@router.post(
    f"{PREFIX}/rights/{{right_no}}/preregistrations",
    status_code=status.HTTP_201_CREATED,
    summary="转移预告登记 / Pre-register a transfer",
)
def preregistration(
    right_no: str, body: svc.PreregistrationBody, session: SessionDep, settings: SettingsDep,
    user: BureauUser, on: OnQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """Record a pre-registration; a second buyer is refused while one holds."""
    policy = policy_from_settings(settings, on)
    out = preregister(session, user, policy, right_no, on=_on(on), **body.model_dump())
    session.commit()
    return out


@router.post(
    f"{PREFIX}/preregistrations/{{preregistration_id}}/end",
    summary="预告登记结束 / End a pre-registration",
)
def end_preregistration(
    preregistration_id: RecordId,
    body: svc.PreregistrationEndBody, session: SessionDep, settings: SettingsDep,
    user: BureauUser, on: OnQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """Completed as the transfer, released, or lapsed (only after 90 days)."""
    policy = policy_from_settings(settings, on)
    out = complete_preregistration(session, user, policy, preregistration_id, on=_on(on),
                                   **body.model_dump())  # fmt: skip
    session.commit()
    return out


@router.post(
    f"{PREFIX}/short-term-uses",
    status_code=status.HTTP_201_CREATED,
    summary="登记短期利用 / Record a short-term use",
)
def add_short_term_use(
    body: svc.ShortTermUseBody, session: SessionDep, settings: SettingsDep, user: BureauUser
) -> dict[str, Any]:
    """A temporary use of reserve or unused land the short-term check allows."""
    policy = policy_from_settings(settings, body.starts_on)
    out = record_short_term_use(
        session, user, policy, body.parcel_code, body.facts(), body.user_name
    )
    session.commit()
    return out


@router.get(f"{PREFIX}/short-term-uses", summary="短期利用清单 / Short-term uses (bureau)")
def list_short_term_uses(session: SessionDep, _: BureauUser, on: OnQuery = None) -> dict[str, Any]:
    """Every short-term use with its status on the day (expired uses have reverted)."""
    uses = short_term_uses(session, _on(on))
    return {"on": _on(on).isoformat(), "count": len(uses), "uses": uses}


@router.get("/maps/stock", response_class=HTMLResponse, summary="存量土地 / Stock land (map)")
def stock_page(session: SessionDep, settings: SettingsDep, on: OnQuery = None) -> str:
    """Idle land by stage and short-term uses by status, with rules and sources in popups."""
    day = _on(on)
    idle = idle_rights(session, policy_from_settings(settings, on), day)
    return render_stock_page(
        idle, short_term_uses(session, day), day.isoformat(), settings.basemap,
        settings.tianditu_token,
    )  # fmt: skip
