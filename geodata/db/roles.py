"""Two database roles: the owner (owns the schema, runs migrations) and the application role.

The application role logs in, owns nothing and is no superuser, so it cannot switch off the
append-only triggers (``session_replication_role``, ``ALTER TABLE … DISABLE TRIGGER``, ``DROP
TRIGGER`` all need ownership or superuser). Its privileges are derived from the catalogue after
every migration run: history tables — those carrying a ``<table>_append_only`` trigger — get
SELECT and INSERT only; every other table of the schema SELECT, INSERT, UPDATE and DELETE;
sequences USAGE and SELECT; the schema's own functions EXECUTE; the database CONNECT and TEMP.
"""

from __future__ import annotations

from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url

from geodata.settings import Settings, get_settings

SCHEMA = "public"
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
# The app reads, never writes these. Only SECURITY DEFINER functions write the last two:
# parcel_ref_counts carries the parcels' foreign keys (0015); parcel_deferred_indexes holds index
# definitions that the owner's function executes (0016).
READ_ONLY_TABLES = (
    "alembic_version",
    "spatial_ref_sys",
    "parcel_ref_counts",
    "parcel_deferred_indexes",
)

HISTORY_TABLES_SQL = text(
    """
    SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND t.tgname = c.relname || '_append_only'
      AND c.relnamespace = CAST(:schema AS regnamespace)
    ORDER BY c.relname
    """
)
RELATIONS_SQL = text(
    """
    SELECT c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    ORDER BY c.relname
    """
)
# Functions the migrations made (extension members such as PostGIS's keep their own grants).
OWN_FUNCTIONS_SQL = text(
    """
    SELECT p.oid::regprocedure::text FROM pg_proc p
    WHERE p.pronamespace = CAST(:schema AS regnamespace)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
    ORDER BY 1
    """
)


def _ident(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def history_tables(conn: Connection) -> list[str]:
    """Tables carrying a `<table>_append_only` trigger: the application may only add rows."""
    return list(conn.execute(HISTORY_TABLES_SQL, {"schema": SCHEMA}).scalars())


def role_exists(conn: Connection, role: str) -> bool:
    """Whether a role of that name exists on the server."""
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    return found is not None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_role_sql(conn: Connection, role: str, password: str | None = None) -> str:
    """The CREATE ROLE statement of the application role."""
    sql = f"CREATE ROLE {_ident(conn, role)} {ROLE_ATTRIBUTES}"
    return sql + (f" PASSWORD {_literal(password)}" if password else "")


def ensure_app_role(conn: Connection, role: str, password: str | None = None) -> bool:
    """Create the application role if missing, else make sure it holds no power; True if made."""
    # Roles are cluster-wide: serialise concurrent `db up`s and test sessions on one server.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('landmarket.app_role'))"))
    if not role_exists(conn, role):
        conn.exec_driver_sql(create_role_sql(conn, role, password))
        return True
    powers = conn.execute(
        text(
            "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls "
            "OR NOT rolcanlogin FROM pg_roles WHERE rolname = :r"
        ),
        {"r": role},
    ).scalar_one()
    if powers:
        conn.exec_driver_sql(f"ALTER ROLE {_ident(conn, role)} {ROLE_ATTRIBUTES}")
    if password:
        conn.exec_driver_sql(f"ALTER ROLE {_ident(conn, role)} PASSWORD {_literal(password)}")
    return False


def grant_statements(conn: Connection, role: str) -> list[str]:
    """The statements giving role exactly the application's privileges on the current schema."""
    who = _ident(conn, role)
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    history = set(history_tables(conn))
    out = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(conn, database)} TO {who}",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {who}",
    ]
    for name, kind in conn.execute(RELATIONS_SQL, {"schema": SCHEMA}).all():
        table = f"{SCHEMA}.{_ident(conn, name)}"
        if name in history:
            privileges = "SELECT, INSERT"
        elif name in READ_ONLY_TABLES or kind in ("v", "m"):
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        out += [f"REVOKE ALL ON {table} FROM {who}", f"GRANT {privileges} ON {table} TO {who}"]
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {who}")
    for function in conn.execute(OWN_FUNCTIONS_SQL, {"schema": SCHEMA}).scalars():
        out.append(f"GRANT EXECUTE ON FUNCTION {function} TO {who}")
    return out


def apply_grants(conn: Connection, role: str) -> list[str]:
    """Give role the application's privileges (inside the caller's transaction); the statements."""
    current = conn.execute(text("SELECT current_user")).scalar_one()
    if role == current or not role_exists(conn, role):
        return []  # one role for everything (an older setup), or no application role yet
    statements = grant_statements(conn, role)
    for statement in statements:
        conn.exec_driver_sql(statement)
    return statements


def same_server(a: str, b: str) -> bool:
    """Whether two URLs point at the same host and port."""
    ua, ub = make_url(a), make_url(b)
    return (ua.host or "localhost", ua.port or 5432) == (ub.host or "localhost", ub.port or 5432)


def owner_url_for(url: str, settings: Settings | None = None) -> str:
    """The URL migrations use for url's database: the owner's, with the same database.

    When url already names the owner (or another server, or there is only one role), it is
    returned unchanged.
    """
    settings = settings or get_settings()
    owner = settings.effective_owner_database_url
    target, owner_url = make_url(url), make_url(owner)
    if target.username == owner_url.username or not same_server(url, owner):
        return url
    return owner_url.set(database=target.database).render_as_string(hide_password=False)


def app_role_for(url: str, owner: str, settings: Settings | None = None) -> str | None:
    """The role that gets the application's privileges when migrating url as owner."""
    settings = settings or get_settings()
    user, owner_user = make_url(url).username, make_url(owner).username
    if user and user != owner_user:
        return user
    app_user = make_url(settings.effective_database_url).username
    return app_user if app_user and app_user != owner_user else None


def app_url(owner_url: str, role: str, password: str | None = None) -> str:
    """The same database as owner_url, logged in as role."""
    return (
        make_url(owner_url)
        .set(username=role, password=password)
        .render_as_string(hide_password=False)
    )


def ensure_app_role_on(server_url: str, role: str, password: str | None = None) -> bool:
    """ensure_app_role over a short connection to server_url (the owner, on any database)."""
    engine = create_engine(server_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            return ensure_app_role(conn, role, password)
    finally:
        engine.dispose()


def grants_for(owner_url: str, role: str) -> list[str]:
    """The grant statements of role on owner_url's database as it stands (for a DBA to run)."""
    engine = create_engine(owner_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return grant_statements(conn, role)
    finally:
        engine.dispose()


def prepare_app_role(settings: Settings | None = None) -> tuple[str | None, str]:
    """Make sure the configured application role exists, as the owner: (role or None, report).

    None means one role serves both purposes (LANDMARKET_DATABASE_URL without an owner URL).
    When the owner may not create roles, the report holds the statement for the DBA to run.
    """
    from sqlalchemy.exc import ProgrammingError

    settings = settings or get_settings()
    app, owner = make_url(settings.effective_database_url), settings.effective_owner_database_url
    if not app.username or app.username == make_url(owner).username:
        return None, (
            "应用与属主为同一角色 / the application connects as the schema owner, which can switch "
            "off the append-only triggers: set LANDMARKET_OWNER_DATABASE_URL to the owner and "
            "LANDMARKET_DATABASE_URL to a role that owns nothing (see README)"
        )
    try:
        created = ensure_app_role_on(owner, app.username, app.password)
    except ProgrammingError as exc:
        engine = create_engine(owner, poolclass=pool.NullPool)
        with engine.connect() as conn:
            statement = create_role_sql(conn, app.username, "…" if app.password else None)
        engine.dispose()
        return app.username, (
            f"属主无权创建角色，请 DBA 执行 / the owner may not create roles; ask the DBA to run: "
            f"{statement}; (then `landmarket db migrate` again) [{exc.orig}]"
        )
    state = "已创建 / created" if created else "已存在 / exists"
    return app.username, f"应用角色 / application role {app.username}: {state}"
