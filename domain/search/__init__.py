"""Finding customers by name or number, in Arabic and Latin script, on every keystroke."""
