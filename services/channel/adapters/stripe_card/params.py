"""The Stripe channel parameters, checked once per call before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from paymesh.services.common.errors import DomainError

DEFAULT_API_BASE = "https://api.stripe.com"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")

# The JSON schema of the parameters, for the merchant service's channel config form.
PARAMS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Stripe channel parameters",
    "type": "object",
    "required": ["secretKey", "webhookSecret"],
    "properties": {
        "secretKey": {"type": "string", "pattern": "^(sk|rk)_(test|live)_[A-Za-z0-9]+$",
                      "description": "Secret (or restricted) API key of the Stripe account"},
        "webhookSecret": {"type": "string", "pattern": "^whsec_[A-Za-z0-9]+$",
                          "description": "Signing secret of the account's webhook endpoint"},
        "apiBase": {"type": "string", "format": "uri", "default": DEFAULT_API_BASE,
                    "description": "API address; https, or http on loopback for test peers"},
    },
    "additionalProperties": True,
}


@dataclass(frozen=True)
class StripeParams:
    """Decrypted channel parameters: who we are at Stripe and where Stripe is."""

    secret_key: str
    webhook_secret: str
    api_base: str


def _invalid(message: str) -> DomainError:
    return DomainError("CHANNEL_CONFIG_INVALID", f"stripe channel parameters: {message}")


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    return value.strip()


def parse_params(params: Mapping[str, Any], *, need_key: bool = True,
                 need_webhook_secret: bool = False) -> StripeParams:
    """The parameters; CHANNEL_CONFIG_INVALID when a needed one is missing or malformed.

    API calls need ``secretKey``; webhook verification needs ``webhookSecret``. ``apiBase``
    must be https, except on a loopback host (where test peers such as localstripe run), so a
    mistyped address never sends the secret key in clear over a network.
    """
    secret_key = _text(params, "secretKey")
    webhook_secret = _text(params, "webhookSecret")
    api_base = _text(params, "apiBase") or DEFAULT_API_BASE
    if need_key and not (secret_key.startswith(_KEY_PREFIXES) and len(secret_key) > 8):
        raise _invalid("secretKey must be a Stripe secret key (sk_test_…, sk_live_…, or rk_…)")
    if need_webhook_secret and not (webhook_secret.startswith("whsec_")
                                    and len(webhook_secret) > 6):
        raise _invalid("webhookSecret must be the endpoint's signing secret (whsec_…)")
    try:
        parts = urlsplit(api_base)
        host = parts.hostname or ""
    except ValueError:
        raise _invalid("apiBase is not a URL") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)
    if not host or not secure or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _invalid("apiBase must be https://host[:port] (http only on a loopback host)")
    return StripeParams(secret_key, webhook_secret, api_base.rstrip("/"))
