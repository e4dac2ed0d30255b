"""Adapters from real telephony systems to the desk's generic call events (desk.calls):
Twilio Voice status callbacks (HTTP, signed) and the Asterisk Manager Interface (a listener
process). Each maps its system's events to the generic fields and hands them to
`calls.event_receive`, so that everything after (storage, de-duplication, ordering, calls,
call backs, screen pops) is the same whatever the source."""
