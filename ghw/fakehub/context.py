"""Everything a request handler needs, passed explicitly (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass

from ghw.fakehub.clock import Clock
from ghw.fakehub.faults import FaultRegistry
from ghw.fakehub.ratelimit import RateCounter
from ghw.fakehub.render import Renderer
from ghw.fakehub.reqlog import RequestLog
from ghw.fakehub.store import Store

__all__ = ["HubContext"]


@dataclass(slots=True)
class HubContext:
    store: Store
    render: Renderer
    clock: Clock
    faults: FaultRegistry
    log: RequestLog
    rate: RateCounter
    base_url: str
    # The account every API token acts as (author of PRs and comments made through the API).
    api_login: str = "ghw-bot"
    # GitHub's 422 for a second open PR with the same head; a test switches it off (control API
    # ``/settings``) to prove that a client's own reconcile, not the server, prevents duplicates.
    refuse_duplicate_pulls: bool = True
