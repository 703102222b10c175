"""The calendar's services: verbs over a unit of work, one item at a time (reserve, cancel, rename, close...)."""
