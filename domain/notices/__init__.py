"""Notices to customers: the WhatsApp templates, what a batch tells whom, the day-before reminders, the rows of the
outbox written in the transaction of the change, and how far they got."""
