"""The clinic calendar: customers, reservations, availability, conversations and fuzzy search."""
