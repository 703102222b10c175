"""The agents' system prompts and their loader."""
