"""After the trade: deals, confirmations, contracts, certificates, registered rights, mortgages, prices."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import BureauUser, CurrentUser, SessionDep, SettingsDep, require_role
from api.errors import problem_responses
from api.paging import PageDep
from api.params import RecordId
from api.schemas.trading import (
    CertificateIn,
    ContractIn,
    MortgageEventIn,
    MortgageIn,
    RegistrationOfRightIn,
    TransferIn,
)
from geodata.trading import confirmations, contracts, mortgages, transfers, views
from geodata.trading.rights import get_right, right_view
from landmarket.access import Principal, Role
from landmarket.errors import Forbidden
from landmarket.policy import policy_from_settings

router = APIRouter(prefix="/api/v1", tags=["deals and rights"])
SellerUser = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective))]
SignedIn = Annotated[Principal, Depends(require_role(Role.bureau, Role.collective, Role.investor))]
County = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="区县代码 / county code")]
Use = Annotated[str | None, Query(max_length=32, description="用途 / use")]
PDF = {200: {"content": {"application/pdf": {}}, "description": "交易鉴证书 PDF"}}
CONFIRMATION_PDF = {200: {"content": {"application/pdf": {}}, "description": "成交确认书 PDF"}}


@router.get("/deals", summary="成交公示 / Concluded deals", responses=problem_responses(401, 422))
def list_deals(
    session: SessionDep, user: CurrentUser, page: PageDep, county: County = None, use: Use = None
) -> dict[str, Any]:
    """Concluded deals for everyone: price per mu, use, term, method, date; no personal data."""
    items, total = views.deals(session, page.limit, page.offset, county, use)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(
    "/deals/statistics",
    summary="成交价格统计 / Price statistics",
    responses=problem_responses(401, 422),
)
def price_statistics(
    session: SessionDep, user: CurrentUser, county: County = None, use: Use = None
) -> dict[str, Any]:
    """Deals per district, use and quarter: count, area, mean (by area), median, min, max."""
    items = views.price_statistics(session, county, use)
    return {"items": items, "total": len(items)}


@router.get(
    "/deals/{deal_id}", summary="成交 / One deal", responses=problem_responses(401, 404, 422)
)
def one_deal(deal_id: RecordId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A deal: the fee and the net proceeds for the parties and the bureau, else the public view."""
    return views.deal(session, user, deal_id)


@router.get(
    "/deals/{deal_id}/confirmation.pdf",
    summary="成交确认书 PDF / The transaction confirmation as PDF",
    response_class=Response,
    responses=CONFIRMATION_PDF | problem_responses(401, 403, 404, 422),
)
def confirmation_pdf(deal_id: RecordId, session: SessionDep, user: SignedIn) -> Response:
    """The confirmation the close issued, for the parties and the bureau."""
    views.require_party(session, user, deal_id)
    number, pdf = confirmations.confirmation_pdf(session, deal_id)
    return Response(
        pdf, media_type="application/pdf", headers={"X-Confirmation-No": _ascii(number)}
    )


@router.get(
    "/confirmations/verify",
    summary="核验成交确认书 / Verify a transaction confirmation",
    responses=problem_responses(422),
)
def verify_confirmation(
    session: SessionDep,
    confirmation_no: Annotated[str, Query(min_length=1, max_length=100)],
    sha256: Annotated[str, Query(pattern=r"^[0-9a-fA-F]{64}$")],
) -> dict[str, Any]:
    """Anyone: does this number with this file's SHA-256 match a confirmation the exchange issued?"""
    return confirmations.verify_confirmation(session, confirmation_no, sha256)


@router.post(
    "/deals/{deal_id}/contract",
    status_code=status.HTTP_201_CREATED,
    summary="签订合同 / Record the contract",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def sign(
    deal_id: RecordId, body: ContractIn, session: SessionDep, user: SellerUser
) -> dict[str, Any]:
    """The contract (bureau or the seller's collective): term, payments, conditions, consent."""
    signed = contracts.sign_contract(
        session, user, deal_id, signed_on=body.signed_on, term_starts_on=body.term_starts_on,
        payment_schedule=[p.model_dump(mode="json") for p in body.payment_schedule],
        planning_conditions=body.planning_conditions,
        investment_conditions=body.investment_conditions,
    )  # fmt: skip
    session.commit()
    return signed


@router.get(
    "/deals/{deal_id}/contract",
    summary="合同 / The contract",
    responses=problem_responses(401, 403, 404, 422),
)
def read_contract(deal_id: RecordId, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    """The contract, for the parties and the bureau."""
    views.require_party(session, user, deal_id)
    return contracts.contract(session, deal_id)


@router.post(
    "/deals/{deal_id}/certificate",
    status_code=status.HTTP_201_CREATED,
    summary="出具交易鉴证书 / Issue the certificate",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def certify(
    deal_id: RecordId, session: SessionDep, user: BureauUser, body: CertificateIn | None = None
) -> dict[str, Any]:
    """The exchange's verification certificate (bureau): number, PDF, SHA-256."""
    on = (body.issued_on if body else None) or date.today()
    issued = contracts.issue_certificate(session, user, deal_id, on)
    session.commit()
    return issued


@router.get(
    "/deals/{deal_id}/certificate.pdf",
    summary="交易鉴证书 PDF / The certificate as PDF",
    response_class=Response,
    responses=PDF | problem_responses(401, 403, 404, 422),
)
def certificate_pdf(deal_id: RecordId, session: SessionDep, user: SignedIn) -> Response:
    """The certificate PDF, for the parties and the bureau."""
    views.require_party(session, user, deal_id)
    number, pdf = contracts.certificate_pdf(session, deal_id)
    return Response(pdf, media_type="application/pdf", headers={"X-Certificate-No": _ascii(number)})


def _ascii(number: str) -> str:
    return number.encode("unicode_escape").decode("ascii")


@router.get(
    "/certificates/verify",
    summary="核验交易鉴证书 / Verify a certificate",
    responses=problem_responses(422),
)
def verify(
    session: SessionDep,
    cert_no: Annotated[str, Query(min_length=1, max_length=100)],
    sha256: Annotated[str, Query(pattern=r"^[0-9a-fA-F]{64}$")],
) -> dict[str, Any]:
    """Anyone: does this number with this file's SHA-256 match a certificate the exchange issued?"""
    return contracts.verify_certificate(session, cert_no, sha256)


@router.post(
    "/deals/{deal_id}/registration",
    status_code=status.HTTP_201_CREATED,
    summary="登记权利 / Register the right",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def register(
    deal_id: RecordId,
    session: SessionDep,
    user: BureauUser,
    body: RegistrationOfRightIn | None = None,
) -> dict[str, Any]:
    """Register the collective construction land use right of a certified deal (bureau)."""
    on = (body.registered_on if body else None) or date.today()
    right = contracts.register_deal(session, user, deal_id, on)
    session.commit()
    return right


@router.get(
    "/rights", summary="权利登记 / Registered rights", responses=problem_responses(401, 403, 422)
)
def list_rights(
    session: SessionDep,
    user: CurrentUser,
    parcel_code: Annotated[str | None, Query(max_length=19)] = None,
) -> dict[str, Any]:
    """Rights with their status: the bureau all, a collective its village's, an investor its own."""
    items = views.rights(session, user, parcel_code)
    return {"items": items, "total": len(items)}


@router.get(
    "/rights/{right_id}",
    summary="权利 / One right",
    responses=problem_responses(401, 403, 404, 422),
)
def one_right(right_id: RecordId, session: SessionDep, user: SignedIn) -> dict[str, Any]:
    """One right (bureau, the holder, the village's collective)."""
    right = get_right(session, str(right_id))
    if not (
        user.role is Role.bureau
        or user.user_id == right.holder_id
        or (user.role is Role.collective and user.village_code == right.village_code)
    ):
        raise Forbidden("仅登记机构、权利人与本村集体 / bureau, holder and own collective only")
    return right_view(right)


@router.post(
    "/rights/{right_id}/mortgages",
    status_code=status.HTTP_201_CREATED,
    summary="抵押登记 / Register a mortgage",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def mortgage(
    right_id: RecordId, body: MortgageIn, session: SessionDep, user: BureauUser
) -> dict[str, Any]:
    """A creditor's mortgage on a registered right (bureau)."""
    right = get_right(session, str(right_id))
    made = mortgages.register_mortgage(
        session, user, right.right_no, creditor_name=body.creditor_name, amount=body.amount,
        starts_on=body.starts_on, ends_on=body.ends_on,
        registered_on=body.registered_on or date.today(), creditor_id=body.creditor_id,
    )  # fmt: skip
    session.commit()
    return made


@router.post(
    "/rights/{right_id}/transfer",
    status_code=status.HTTP_201_CREATED,
    summary="转让登记 / Register a transfer",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def transfer(
    right_id: RecordId, body: TransferIn, session: SessionDep, settings: SettingsDep,
    user: BureauUser,
) -> dict[str, Any]:  # fmt: skip
    """Pass a live right to a buyer for the rest of its term (bureau): refused (409, each reason
    naming its field) below the policy's investment share, without every creditor's consent or
    while it is pre-registered for another buyer; the pre-registered buyer's transfer completes it."""
    on = body.registered_on or date.today()
    done = transfers.transfer_right(
        session, user, policy_from_settings(settings, on), right_id, buyer_name=body.buyer_name,
        on=on, buyer_id=body.buyer_id, buyer_username=body.buyer_username,
        price=body.price, contract_signed_on=body.contract_signed_on, note=body.note,
    )  # fmt: skip
    session.commit()
    return done


@router.get("/mortgages", summary="抵押 / Mortgages", responses=problem_responses(401, 403, 422))
def list_mortgages(session: SessionDep, user: SignedIn) -> dict[str, Any]:
    """Mortgages the caller may see (bureau; the right's holder; the creditor)."""
    items = mortgages.mortgages_of(session, user)
    return {"items": items, "total": len(items)}


@router.post(
    "/mortgages/{mortgage_id}/release",
    summary="注销抵押 / Release a mortgage",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def release(
    mortgage_id: RecordId,
    session: SessionDep,
    user: BureauUser,
    body: MortgageEventIn | None = None,
) -> dict[str, Any]:
    """Release a mortgage (bureau)."""
    on = (body.on if body else None) or date.today()
    done = mortgages.release_mortgage(session, user, mortgage_id, on, body.note if body else None)
    session.commit()
    return done


@router.post(
    "/mortgages/{mortgage_id}/consent",
    summary="抵押权人同意转让 / Creditor's consent to a transfer",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def consent(
    mortgage_id: RecordId, session: SessionDep, user: SignedIn, body: MortgageEventIn | None = None
) -> dict[str, Any]:
    """The creditor's consent to a transfer of the mortgaged right (the creditor or the bureau)."""
    on = (body.on if body else None) or date.today()
    done = mortgages.consent_to_transfer(
        session, user, mortgage_id, on, body.note if body else None
    )
    session.commit()
    return done
