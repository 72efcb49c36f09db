"""Who is acting: a person, an API key, or the system itself (imports, the demo loader, rules)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a service: role decides what it may see and do."""

    user_id: int | None
    role: str
    team_id: int | None = None
    api_key_id: int | None = None
    via: str = "cli"  # cli | api | web | worker | import | demo | capture

    @property
    def is_system(self) -> bool:
        return self.user_id is None


def system_actor(via: str = "cli") -> Actor:
    """The system acting on its own (bulk jobs, rules, the worker): full rights, no person."""
    return Actor(user_id=None, role="admin", via=via)
