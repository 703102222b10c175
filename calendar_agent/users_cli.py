"""`calendar-agent users`: the staff's accounts, from the command line (the first admin of a fresh install too).

A password is asked for twice on a terminal, or read from the first line of standard input with
`--password-stdin` (for scripts); it is never an argument, which other users of the machine could read."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable

from calendar_agent.database_check import prepare_database
from calendar_agent.settings import Settings
from domain.errors import DomainError
from domain.staff.accounts import StaffAccounts, StaffView
from domain.staff.audit import AuditLog
from domain.staff.roles import Role
from domain.storage.database import create_database

Action = Callable[[StaffAccounts, argparse.Namespace], Awaitable[object]]


def add_users_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="staff accounts: add, list, disable, enable, passwd, role")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an account (its password is asked for)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[str(role) for role in Role])
    add.add_argument("--display-name", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(run=_command(_add))
    listed = actions.add_parser("list", help="list the accounts")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(run=_command(_list))
    for name, verb, action in (("disable", "disable an account: its sessions and tokens end", _disable),
                               ("enable", "enable a disabled account again", _enable)):
        parser = actions.add_parser(name, help=verb)
        parser.add_argument("username")
        parser.set_defaults(run=_command(action))
    passwd = actions.add_parser("passwd", help="set an account's password: its sessions and tokens end")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(run=_command(_passwd))
    role = actions.add_parser("role", help="change an account's role: its sessions and tokens end")
    role.add_argument("username")
    role.add_argument("role", choices=[str(r) for r in Role])
    role.set_defaults(run=_command(_role))


def _command(action: Action) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        prepare_database(settings.database_url, may_create=True)  # a fresh install's first admin comes first
        try:
            result = asyncio.run(_with_accounts(settings, action, args))
        except DomainError as error:
            print(f"calendar-agent: {error.message()}", file=sys.stderr)
            return 1
        if isinstance(result, StaffView):
            print(f"{result.username} ({result.role}){' disabled' if result.disabled else ''}", file=sys.stderr)
        return 0

    return run


async def _with_accounts(settings: Settings, action: Action, args: argparse.Namespace) -> object:
    db = create_database(settings.database_url)
    try:
        config = settings.clinic_config()
        return await action(StaffAccounts(db, config, AuditLog(db, config)), args)
    finally:
        await db.dispose()


async def _add(accounts: StaffAccounts, args: argparse.Namespace) -> StaffView:
    return await accounts.add(args.username, args.role, _password(args.password_stdin), args.display_name)


async def _list(accounts: StaffAccounts, args: argparse.Namespace) -> None:
    users = await accounts.listed()
    if args.json:
        print(json.dumps([user.model_dump(mode="json") for user in users], ensure_ascii=False))
        return
    for user in users:
        print(f"{user.username}\t{user.role}\t{'disabled' if user.disabled else 'enabled'}\t{user.display_name}")


async def _disable(accounts: StaffAccounts, args: argparse.Namespace) -> StaffView:
    return await accounts.disable(args.username)


async def _enable(accounts: StaffAccounts, args: argparse.Namespace) -> StaffView:
    return await accounts.enable(args.username)


async def _passwd(accounts: StaffAccounts, args: argparse.Namespace) -> StaffView:
    return await accounts.set_password(args.username, _password(args.password_stdin))


async def _role(accounts: StaffAccounts, args: argparse.Namespace) -> StaffView:
    return await accounts.set_role(args.username, args.role)


def _password(from_stdin: bool) -> str:
    """The new password: standard input's first line, or asked twice on the terminal."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("calendar-agent: the two passwords differ; nothing changed")
    return first
