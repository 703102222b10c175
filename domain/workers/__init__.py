"""Infrastructure workers: the durable job queue, the notice outbox, the reminders and the cross-instance broadcast."""
