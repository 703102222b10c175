"""The Model Context Protocol server of the system agent and of the customer assistant."""
