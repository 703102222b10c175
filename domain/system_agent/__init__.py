"""The system agent's batch layer: set-based batches and reports over the calendar rules."""
