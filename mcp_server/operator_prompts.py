"""Prompts for the operators' common workflows; each is a plan the model follows with the tools."""

from __future__ import annotations

from mcp.server import MCPServer

CONFIRM = ("If an answer has status needs_confirmation, show its preview to the user and wait for their "
           "explicit yes before calling again with its confirmation_token.")


def move_day(from_date: str, to_date: str) -> str:
    return (
        f"Move every appointment on {from_date} to {to_date}, keeping each appointment's time where it has room.\n"
        "1. Call get_current_datetime, then system_get_reservation_snapshot for both dates: who is booked, "
        "the room left, and whether the target day is open.\n"
        f'2. Call system_batch_modify with filters {{"dates": ["{from_date}"]}} and updates '
        f'{{"new_date": "{to_date}"}} and dry_run true. Tell the user how many would move and which would '
        'fail, with the reason; if times are full, offer updates.placement "nearest" and show where each lands.\n'
        f"3. Only when the user agrees, call it again without dry_run (notify true if they want the customers "
        f"told). {CONFIRM}\n"
        "4. Give the batch_id (system_undo_batch reverts it).")


def close_days(start_date: str, end_date: str, title: str = "a holiday") -> str:
    return (
        f"The clinic is closed from {start_date} to {end_date} ({title}).\n"
        f'1. Call system_close_days with start_date "{start_date}", end_date "{end_date}", title "{title}" and '
        "dry_run true: it shows the bookings it would cancel. Report them per day.\n"
        "2. Ask whether to tell those customers on WhatsApp.\n"
        f"3. Only when the user agrees, call it again without dry_run (notify true if they said so). {CONFIRM}\n"
        "4. From then on every booking of those days is refused. Give the batch_id: system_undo_batch reopens "
        "the days and restores the bookings.")


def book_customer(customer: str, date: str, time_slot: str) -> str:
    return (
        f"Book {customer} on {date} at {time_slot}.\n"
        f'1. Find the customer: system_get_reservations with search_query "{customer}" and include ["customers"]. '
        "If several match, ask the user which one.\n"
        f"2. Check the slot with search_available_appointments for {date} (near_time {time_slot}).\n"
        "3. Call system_batch_reserve with that wa_id, date and time_slot; if the customer already has an upcoming "
        "reservation, tell the user it will be moved. Report the answer's action.")


def find_and_message_customers(who: str, purpose: str) -> str:
    return (
        f"Find the customers matching: {who}. Then message them about: {purpose}.\n"
        "1. By history (last visit, no upcoming booking, visits, cancellations): system_find_customers with recall. "
        "By name, number or booked dates: system_get_reservations (search_query; dates or start_date/end_date; "
        'include ["customers"]). While next_cursor is not null, call again with it: never stop early.\n'
        "2. Show the list (name, number, last visit or next reservation) and ask the user to confirm who is in it.\n"
        "3. Draft one short, polite WhatsApp message and show it. Only when the user agrees, send it with "
        f"system_message_customers (the same recall, the wa_ids, or the date range). {CONFIRM}")


def add_operator_prompts(server: MCPServer) -> None:
    server.prompt(name="move_day", title="Move a day's appointments",
                  description="Move every appointment of one day to another day, safely.")(move_day)
    server.prompt(name="close_days", title="Close the clinic for days",
                  description="Close a period, cancelling its bookings, and tell the customers.")(close_days)
    server.prompt(name="book_customer", title="Book a customer",
                  description="Find a customer by name and book them a slot.")(book_customer)
    server.prompt(name="find_and_message_customers", title="Find and message customers",
                  description="Find customers by history, name, number or dates and message them.")(
        find_and_message_customers)
