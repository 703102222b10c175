"""The clinic's staff: accounts with roles, console sessions, the append-only audit log, and who a change is
signed by (`roles.Principal`)."""
