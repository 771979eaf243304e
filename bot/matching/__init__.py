"""Pure matching engine: optimal, rule-abiding, explained tandems (no I/O)."""

from bot.matching.engine import DEFAULT_REFERENCE, greedy_match, match
from bot.matching.explain import describe_tandem, describe_unmatched, describe_warning
from bot.matching.model import (
    Explanation,
    MatchResult,
    MatchWarning,
    Person,
    Rules,
    SolveStats,
    Tandem,
    Unmatched,
    Weights,
)

__all__ = [
    "DEFAULT_REFERENCE",
    "Explanation",
    "MatchResult",
    "MatchWarning",
    "Person",
    "Rules",
    "SolveStats",
    "Tandem",
    "Unmatched",
    "Weights",
    "describe_tandem",
    "describe_unmatched",
    "describe_warning",
    "greedy_match",
    "match",
]
