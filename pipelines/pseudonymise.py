"""Person ids -> keyed hashes, so the same person still joins across records and sources.

HMAC-SHA-256 with the deployment's secret key, truncated to 128 bits (32 hex characters): without
the key the hash cannot be reversed or recomputed from a guessed id; with the same key the same
source id always gives the same person key. Ids are trimmed first so `" P1"` and `"P1"` join.
"""

from __future__ import annotations

import hashlib
import hmac

PERSON_KEY_HEX_CHARS = 32


def person_key(person_id: str, key: bytes) -> str:
    digest = hmac.new(key, person_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PERSON_KEY_HEX_CHARS]


def person_keys(person_ids: list[str | None], key: bytes) -> list[str | None]:
    """Hash a column of ids; nulls and blanks stay null. Repeated ids are hashed once."""
    cache: dict[str, str] = {}
    keys: list[str | None] = []
    for person_id in person_ids:
        if person_id is None or not person_id.strip():
            keys.append(None)
            continue
        hashed = cache.get(person_id)
        if hashed is None:
            hashed = cache[person_id] = person_key(person_id, key)
        keys.append(hashed)
    return keys
