"""The browser workbench: server-rendered pages (Jinja2) beside the API and the CLI.

An edge like the others: it calls the services in geodata/ and the domain in landmarket/, and
imports neither api/ nor cli/. `web.app.install(app)` adds its routers, static files and error
pages to the platform's FastAPI app. See docs/ARCHITECTURE.md, section "Pages".
"""
