"""The chat bridge: operators' chat with the system agent, customers' WhatsApp with their assistant."""
