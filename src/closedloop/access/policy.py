"""Who may do what: the role permissions of issue 3, as data, checked in one place."""

from __future__ import annotations

from closedloop.errors import Forbidden
from closedloop.i18n import translate
from closedloop.users.actor import Actor

ALL_ROLES = frozenset({"admin", "manager", "marketing", "sales", "viewer"})
# Roles that may see person-level rows (viewers see aggregates only).
PERSONAL = frozenset({"admin", "manager", "marketing", "sales"})
SALES_SIDE = frozenset({"admin", "manager", "sales"})
MARKETING_SIDE = frozenset({"admin", "marketing"})
LEADERS = frozenset({"admin", "manager"})
ADMIN = frozenset({"admin"})

# (resource, action) -> roles allowed. Anything not listed is forbidden.
PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("leads", "read"): PERSONAL,
    ("leads", "create"): PERSONAL,
    ("leads", "update"): PERSONAL,
    ("leads", "reassign"): LEADERS,
    ("leads", "change_stage"): PERSONAL,
    ("leads", "export"): PERSONAL,
    ("leads", "summary"): ALL_ROLES,
    # The data stewards: the quality page (needs data, duplicates, quarantine, import wizard) and merges.
    ("leads", "merge"): frozenset({"admin", "manager", "marketing"}),
    ("quality", "read"): frozenset({"admin", "manager", "marketing"}),
    ("touchpoints", "read"): PERSONAL,
    ("touchpoints", "create"): MARKETING_SIDE,
    ("campaigns", "read"): ALL_ROLES,
    ("campaigns", "write"): MARKETING_SIDE,
    ("spend", "read"): ALL_ROLES,
    ("spend", "write"): MARKETING_SIDE,
    ("deals", "read"): SALES_SIDE,
    ("deals", "write"): SALES_SIDE,
    ("deals", "summary"): ALL_ROLES,
    ("handoffs", "read"): PERSONAL,
    ("handoffs", "reassign"): LEADERS,
    ("handoffs", "respond"): SALES_SIDE,
    ("activities", "read"): PERSONAL,
    ("activities", "create"): SALES_SIDE,
    ("goals", "read"): ALL_ROLES,
    ("goals", "write"): LEADERS,
    ("reviews", "read"): ALL_ROLES,
    ("reviews", "write"): LEADERS,
    # Report packs by email: anyone may subscribe themselves; a team's subscription is a leader's call.
    ("report_subscriptions", "read"): ALL_ROLES,
    ("report_subscriptions", "write"): ALL_ROLES,
    ("report_subscriptions", "team"): LEADERS,
    # Conversions sent back to the ad platforms carry click ids and hashed identities.
    ("conversions", "export"): frozenset({"admin", "manager", "marketing"}),
    ("users", "read"): LEADERS,
    ("users", "write"): ADMIN,
    ("teams", "read"): ALL_ROLES,
    ("teams", "write"): ADMIN,
    ("api_keys", "read"): ADMIN,
    ("api_keys", "write"): ADMIN,
    ("audit", "read"): LEADERS,
    ("persons", "export"): ADMIN,
    ("persons", "erase"): ADMIN,
}
# Field-level: the notes of an activity on a deal.
DEAL_NOTES_ROLES = SALES_SIDE


def allowed(actor: Actor, resource: str, action: str) -> bool:
    """True when the actor's role may do `action` on `resource`."""
    if actor.is_system:
        return True
    return actor.role in PERMISSIONS.get((resource, action), frozenset())


def require(actor: Actor, resource: str, action: str) -> None:
    """Raise Forbidden (403) unless the actor's role may do this."""
    if not allowed(actor, resource, action):
        raise Forbidden(translate("access.error.forbidden", resource=resource, action=action))


def sees_deal_notes(actor: Actor) -> bool:
    """Field-level rule: activity notes of a deal are for sales, managers and admins only."""
    return actor.is_system or actor.role in DEAL_NOTES_ROLES
