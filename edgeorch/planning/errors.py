"""The planner's one exception type."""


class PlanningError(Exception):
    """The problem has no valid plan (no edge online, missing profiles, memory excludes every
    placement...)."""
