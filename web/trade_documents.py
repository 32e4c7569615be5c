"""Trade document downloads shared by the bureau's, the collective's and the investor's pages.

Each page module keeps its own URL under its prefix; the download itself — who may have it, which
stored bytes, the headers — is the one function here.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from geodata.trading import confirmations, contracts, views
from landmarket.access import Role
from landmarket.errors import LandmarketError
from landmarket.i18n import localize
from web.deps import Viewer
from web.templating import render

Kind = Literal["confirmation", "certificate"]
HEADERS = {"confirmation": "X-Confirmation-No", "certificate": "X-Certificate-No"}


def document_download(
    request: Request, db: Session, viewer: Viewer, deal_id: int, kind: Kind
) -> Response:
    """The stored PDF of a deal's confirmation or certificate, for the bureau or a party.

    The bytes are the ones whose SHA-256 was recorded when the document was issued.
    """
    try:
        if viewer.role is not Role.bureau:
            views.require_party(db, viewer.principal, deal_id)
        if kind == "confirmation":
            number, pdf = confirmations.confirmation_pdf(db, deal_id)
        else:
            number, pdf = contracts.certificate_pdf(db, deal_id)
    except LandmarketError as exc:
        return render(request, "error.html", {"message": localize(str(exc))}, exc.status)
    ascii_number = number.encode("unicode_escape").decode("ascii")
    headers = {
        "Content-Disposition": f'attachment; filename="{kind}-{deal_id}.pdf"',
        HEADERS[kind]: ascii_number,
        "X-Document-No": ascii_number,
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
