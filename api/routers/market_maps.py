"""Map pages of the land market: /maps/investor (vector tiles) and /maps/collective (own parcels)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SessionCsrf, SessionDep, SettingsDep
from geodata.listings.search import market_bounds
from landmarket.policy import policy_from_settings
from maps.collective import render_collective_page
from maps.investor import render_investor_page

router = APIRouter(tags=["maps"])


@router.get(
    "/maps/investor", response_class=HTMLResponse, summary="土地市场 / Land market (investors)"
)
def investor_page(session: SessionDep, settings: SettingsDep) -> str:
    """Plots on the market from vector tiles, with filters, popups and constraint layers."""
    uses = sorted(policy_from_settings(settings).group("market_entry.max_term"))
    return render_investor_page(
        market_bounds(session), uses, settings.basemap, settings.tianditu_token
    )


@router.get(
    "/maps/collective",
    response_class=HTMLResponse,
    summary="本村宗地与挂牌 / Our parcels (collectives)",
)
def collective_page(settings: SettingsDep, csrf: SessionCsrf) -> str:
    """A collective's own parcels with listing status (the browser session, or a token kept in
    the browser)."""
    return render_collective_page(settings.basemap, settings.tianditu_token, csrf is not None)
