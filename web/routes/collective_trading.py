"""The village collective's trading pages (the seller's side): its listings' trades from the
announcement to the registered right, with the confirmation and certificate PDFs of its deals.

Read-only; everything comes from geodata.trading (village for the collective's view, views for the
party check the API's deals router makes, confirmations and contracts for the issued PDF bytes).
A collective sees its own village's trades only: another village's trade is 403, none is 404.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from geodata.trading import village
from landmarket.errors import LandmarketError
from landmarket.i18n import localize
from web.deps import CollectiveViewer, DbSession, page_router
from web.templating import render
from web.trade_documents import document_download

router = page_router("/collective/trading")


def _error(request: Request, exc: LandmarketError) -> Response:
    return render(request, "error.html", {"message": localize(str(exc))}, exc.status)


@router.get("")
def trades(
    request: Request, db: DbSession, viewer: CollectiveViewer, listing: int | None = None
) -> Response:
    """The village's trades, newest first (optionally those of one listing)."""
    rows = village.village_trades(db, viewer.principal, listing_id=listing)
    return render(request, "collective_trading.html", {"trades": rows, "listing": listing})


@router.get("/{announcement_id}")
def trade(request: Request, db: DbSession, viewer: CollectiveViewer, announcement_id: int):
    """One trade's file: announcement, bidders (counts), bids, outcome, deal, documents, right."""
    try:
        found = village.trade_file(db, viewer.principal, announcement_id)
    except LandmarketError as exc:
        return _error(request, exc)
    return render(request, "collective_trade.html", found)


@router.get("/deals/{deal_id}/confirmation.pdf")
def confirmation_pdf(
    request: Request, db: DbSession, viewer: CollectiveViewer, deal_id: int
) -> Response:
    """The transaction confirmation of one of the village's deals (the bytes the close issued)."""
    return document_download(request, db, viewer, deal_id, "confirmation")


@router.get("/deals/{deal_id}/certificate.pdf")
def certificate_pdf(
    request: Request, db: DbSession, viewer: CollectiveViewer, deal_id: int
) -> Response:
    """The verification certificate of one of the village's deals, once issued."""
    return document_download(request, db, viewer, deal_id, "certificate")
