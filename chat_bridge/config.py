"""What the bridge needs to know beyond the clinic's configuration: the operators' token, Meta's webhook
secrets, and the confirmation limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BridgeConfig:
    """`operator_token` None: no token is asked for (a loopback service without `OPERATOR_TOKEN`)."""

    operator_token: str | None = None
    whatsapp_verify_token: str = ""
    whatsapp_app_secret: str = ""
    confirmation_limits: str = ""  # what an agent applies without asking, as `EffectLimits.describe` says it
    confirmation_timeout_seconds: float = 300.0
