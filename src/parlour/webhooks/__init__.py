"""Signed outgoing webhooks for meeting events (SPEC I3); see docs/webhooks.md."""
