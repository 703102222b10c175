"""The waitlist: customers waiting for a place in a date range, and the places freed for them, offered in waves.

`rules` holds the pure rules, `entries` the entries' verbs, `places` how a freed place is found and offered,
`offers` the notices an offer sends, `answers` a customer's press of Accept or Decline, and `service` the one
`WaitlistService` the adapters call.
"""
