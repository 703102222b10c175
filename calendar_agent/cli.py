"""`calendar-agent`: the command line of the service."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from calendar_agent.database_check import prepare_database
from calendar_agent.users_cli import add_users_commands
from calendar_agent.settings import ENV_FILE_VARIABLE, Settings, SettingsError, load_settings, settings_file
from domain.storage.database import create_database
from domain.calendar.demo import is_empty, seed_demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        source = settings_file(args.env_file)
        settings = load_settings(source)
        print(f"calendar-agent: settings from {source or 'the environment only (no settings file)'}; "
              f"database {shown_url(settings.database_url)}", file=sys.stderr)
        result: int = args.run(settings, args)
    except SettingsError as error:
        print(f"calendar-agent: {error}", file=sys.stderr)
        return 2
    return result


def shown_url(url: str) -> str:
    """The database URL as logged, its password hidden (a SQLite path is absolute already: `load_settings`)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(DATABASE_URL is not a database URL)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calendar-agent", description="The clinic's calendar AI agent.")
    parser.add_argument("--env-file", help=f"the settings file (also {ENV_FILE_VARIABLE}); default: .env here, "
                                           "else .env beside the project")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    db = commands.add_parser("db", help="database schema").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply the migrations").set_defaults(run=_db_upgrade)
    seed = commands.add_parser("seed-demo", help="fill the calendar with deterministic demo data")
    seed.add_argument("--customers", type=int, default=300)
    seed.add_argument("--days", type=int, default=60)
    seed.add_argument("--force", action="store_true", help="seed even when customers exist")
    seed.set_defaults(run=_seed)
    serve = commands.add_parser("serve", help="run the chat bridge with the MCP server at /mcp")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--seed-demo-if-empty", action="store_true")
    serve.set_defaults(run=_serve)
    _add_mcp(commands)
    add_users_commands(commands)
    return parser


def _add_mcp(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = commands.add_parser("mcp", help="serve the system agent's MCP tools (stdio by default)")
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1")
    mcp.add_argument("--port", type=int, default=8765)
    mcp.set_defaults(run=_mcp)


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    prepare_database(settings.database_url, may_create=True)
    print("database is up to date", file=sys.stderr)
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    prepare_database(settings.database_url, may_create=True)
    created = asyncio.run(_seed_async(settings, args.customers, args.days, args.force))
    print(json.dumps(created))
    return 0


async def _seed_async(settings: Settings, customers: int, days: int, force: bool) -> dict[str, int]:
    db = create_database(settings.database_url)
    try:
        if not force and not await is_empty(db):
            return {"customers": 0, "reservations": 0}
        return await seed_demo(db, settings.clinic_config(), customers=customers, days=days)
    finally:
        await db.dispose()


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from calendar_agent.http_server import server_config
    from calendar_agent.bootstrap.serve import build_service_app, require_tokens
    from calendar_agent.network import is_loopback_host
    from chat_bridge.logs import configure_logging

    public = not is_loopback_host(args.host)
    require_tokens(settings, public)  # before anything is touched
    configure_logging(settings.log_format, settings.log_level)
    # Only the demo's start (`scripts/serve.sh`) may create the calendar it is about to fill.
    prepare_database(settings.database_url, may_create=args.seed_demo_if_empty)
    if args.seed_demo_if_empty:
        print(json.dumps({"seeded": asyncio.run(_seed_async(settings, 300, 60, False))}), file=sys.stderr)
    app = build_service_app(settings, host=args.host, public=public)
    print(f"calendar-agent: the console is at http://{args.host}:{args.port}/ and MCP at /mcp", file=sys.stderr)
    uvicorn.Server(server_config(app, settings, args.host, args.port, log_level="info")).run()
    return 0


def _mcp(settings: Settings, args: argparse.Namespace) -> int:
    from calendar_agent.bootstrap.mcp import run_mcp
    from chat_bridge.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    prepare_database(settings.database_url, may_create=False)
    run_mcp(settings, http=args.http, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
