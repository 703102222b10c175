"""Storage: the SQLAlchemy models, engines and units of work, and the bulk reads and writes of the planners."""
