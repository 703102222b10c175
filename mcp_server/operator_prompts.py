"""Prompts for the operators' common workflows; each is a plan the model follows with the tools."""

from __future__ import annotations

from mcp.server import MCPServer

CONFIRM = ("If an answer has status needs_confirmation, show its preview to the user and wait for their "
           "explicit yes before calling again with its confirmation_token.")


def move_day(from_date: str, to_date: str) -> str:
    return (
        f"Move every appointment on {from_date} to {to_date}, keeping each appointment's time.\n"
        "1. Call get_current_datetime, then system_get_reservation_snapshot for both dates: who is booked, "
        "the room left, and whether the target day is open.\n"
        f'2. Call system_batch_modify with filters {{"dates": ["{from_date}"]}} and updates '
        f'{{"new_date": "{to_date}"}} and dry_run true. Tell the user how many would move and which would '
        "fail, with the reason.\n"
        f"3. Only when the user agrees, call it again without dry_run. {CONFIRM}\n"
        "4. Give the batch_id (system_undo_batch reverts it). For anyone not moved, offer other times found "
        "with search_available_appointments.")


def cancel_vacation_range(start_date: str, end_date: str, title: str = "a vacation") -> str:
    return (
        f"The clinic is closed from {start_date} to {end_date} ({title}); cancel the appointments in that range.\n"
        f"1. Call system_get_wa_ids_by_date_range for {start_date} to {end_date}: the customers affected.\n"
        f'2. Call system_batch_cancel with filters {{"start_date": "{start_date}", "end_date": "{end_date}"}} '
        "and dry_run true; report the count per day.\n"
        f"3. Only when the user agrees, call it again without dry_run. {CONFIRM}\n"
        "4. Give the batch_id, then draft a short message (Arabic and English) telling those customers, "
        "offering the nearest open days from search_available_appointments. These tools send no messages: "
        "the operator sends it from the chat sidebar.")


def find_and_message_customers(who: str, purpose: str) -> str:
    return (
        f"Find the customers matching: {who}. Then prepare a message for them about: {purpose}.\n"
        "1. Use system_get_reservations (search_query for names or numbers; dates or start_date/end_date; "
        'include ["customers"]). While next_cursor is not null, call again with it: never stop early.\n'
        "2. Show the list (name, number, next reservation) and ask the user to confirm who is in it.\n"
        "3. Draft one short, polite WhatsApp message in Arabic and English. These tools send no messages: the "
        "operator sends it from the chat sidebar.")


def add_operator_prompts(server: MCPServer) -> None:
    server.prompt(name="move_day", title="Move a day's appointments",
                  description="Move every appointment of one day to another day, safely.")(move_day)
    server.prompt(name="cancel_vacation_range", title="Cancel a vacation range",
                  description="Cancel the appointments of a closed period and prepare the notice.")(
        cancel_vacation_range)
    server.prompt(name="find_and_message_customers", title="Find and message customers",
                  description="Find customers by name, number or dates and draft a message to them.")(
        find_and_message_customers)
