"""Pure rules of the clinic calendar: schedule, capacity, planning, placement, numbers, delivery. No I/O."""
