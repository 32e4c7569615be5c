"""Policy data: every threshold, rate, term and price with its effective date and source."""

from landmarket.policy.loader import (
    PACKAGED_DIR,
    Param,
    Policy,
    PolicyError,
    PolicyLayer,
    available_versions,
    load_policy,
    policy_from_settings,
    read_layer,
)

__all__ = [
    "PACKAGED_DIR",
    "Param",
    "Policy",
    "PolicyError",
    "PolicyLayer",
    "available_versions",
    "load_policy",
    "policy_from_settings",
    "read_layer",
]
