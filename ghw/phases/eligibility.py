"""Who may reach an agent (§4.2): decided by sync, written into the events. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ghw.ledger.hashing import canonical_text

__all__ = ["Policy", "content_hash", "decide"]


@dataclass(frozen=True)
class Policy:
    trusted_associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    trusted_label: str | None = None
    trigger_label: str | None = None
    include_labels: tuple[str, ...] = ()
    exclude_labels: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config) -> Policy:  # type: ignore[no-untyped-def]
        return cls(
            trusted_associations=tuple(a.upper() for a in config["policy.trusted_associations"]),
            trusted_label=config["policy.trusted_label"],
            trigger_label=config["policy.trigger_label"],
            include_labels=tuple(config["policy.include_labels"]),
            exclude_labels=tuple(config["policy.exclude_labels"]),
        )


def decide(association: str | None, labels: Sequence[str], policy: Policy) -> tuple[bool, str]:
    """(eligible, reason). The reason says what to change to make the issue eligible.

    GitHub compares label names and association values without regard to case, and so does this:
    ``Ghw-Trusted`` is the label ``ghw-trusted``, ``member`` is ``MEMBER``. A missing association
    is ``NONE``.
    """
    assoc = (association or "").strip().upper() or "NONE"
    trusted_associations = {a.strip().upper() for a in policy.trusted_associations}
    have = {label.casefold() for label in labels}
    trusted = assoc in trusted_associations or bool(
        policy.trusted_label and policy.trusted_label.casefold() in have
    )
    if not trusted:
        how = f" or the label {policy.trusted_label!r}" if policy.trusted_label else ""
        return False, (
            f"untrusted author: association {assoc} is not in "
            f"{', '.join(policy.trusted_associations) or '(none)'}{how}"
        )
    if policy.trigger_label and policy.trigger_label.casefold() not in have:
        return False, f"missing the trigger label {policy.trigger_label!r}"
    if policy.include_labels and not have & {label.casefold() for label in policy.include_labels}:
        return False, f"has none of the included labels {', '.join(policy.include_labels)}"
    exclude = {label.casefold() for label in policy.exclude_labels}
    excluded = sorted({label for label in labels if label.casefold() in exclude})
    if excluded:
        return False, f"has the excluded label {', '.join(excluded)}"
    return True, ""


def content_hash(title: str, body: str | None, labels: Sequence[str]) -> str:
    """What sync compares to tell an edit: title, body and labels (order-free)."""
    text = canonical_text([title, body or "", sorted(labels)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
