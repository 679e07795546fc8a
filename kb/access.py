"""Who may see and do what: classification levels, roles, and the viewer a request acts as.

A user sees a document only if their clearance reaches its classification and, where the
document names need-to-know groups, they belong to one of them. The rule is applied inside the
core, in SQL, before anything is ranked or counted; a hidden document is exactly as absent as a
missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb.errors import InvalidRequestError

LEVELS = ("public", "internal", "restricted", "confidential")
ROLES = ("reader", "evaluator", "trainer", "admin")
# What each role may do beyond reading what it may see.
ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),  # search, read, similar, export
    "write": frozenset({"evaluator", "admin"}),  # add, edit, version, delete, restore, link
    "packs": frozenset({"trainer", "admin"}),
    "admin": frozenset({"admin"}),  # users, purge, the audit log
}


@dataclass(frozen=True)
class Viewer:
    """The user a request acts as. `None` in place of a viewer means full rights (the local
    command line: whoever holds the store's files holds everything)."""

    name: str
    role: str
    clearance: str
    groups: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        return LEVELS.index(self.clearance)

    def may(self, action: str) -> bool:
        return self.role in ACTIONS[action]


def check_level(level: str, what: str = "classification") -> str:
    if level not in LEVELS:
        raise InvalidRequestError(f"{what} must be one of {', '.join(LEVELS)}, not {level!r}")
    return level


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidRequestError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(g.strip() for g in groups))
    for group in cleaned:
        # No commas: forms list groups separated by commas, and a name holding one would be
        # read back as two groups, widening who may see a document.
        if not group or len(group) > 100 or any(ord(c) < 32 or c == "," for c in group):
            raise InvalidRequestError(
                f"bad group name {group!r}: 1-100 characters, no commas or control characters"
            )
    return cleaned


def sight_of(viewer: Viewer | None) -> tuple[int, tuple[str, ...]]:
    """What decides what a viewer sees (clearance, groups): viewers alike in it see alike, so
    what is worked out from the documents one sees may be kept for the others."""
    if viewer is None:
        return len(LEVELS), ()
    return viewer.rank, tuple(sorted(viewer.groups))


def may_see(viewer: Viewer | None, classification: str, groups: Sequence[str]) -> bool:
    """The visibility rule itself (SQL applies the same; tests compare the two)."""
    if viewer is None:
        return True
    if LEVELS.index(classification) > viewer.rank:
        return False
    return not groups or bool(set(groups) & set(viewer.groups))


def may_see_marking(viewer: Viewer | None, marking: tuple[int, tuple[str, ...]]) -> bool:
    """The visibility rule for a marking given as (level rank, groups)."""
    level, groups = marking
    return 0 <= level < len(LEVELS) and may_see(viewer, LEVELS[level], groups)
