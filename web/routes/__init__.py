"""Page routers, one module per area; each is listed in web.app.PAGE_MODULES."""
