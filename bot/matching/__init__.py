"""Pure matching engine: optimal, rule-abiding, explained tandems (no I/O).

The entry points: ``match`` (and ``greedy_match``, the reference it is measured
against) take ``Person``s, ``Rules`` and ``Weights`` and give a ``MatchResult``
(``bot.matching.model``, with the tandems, the unmatched and their reasons);
``describe_*`` turn its explanations into catalogue keys.
"""

from bot.matching.engine import DEFAULT_REFERENCE, greedy_match, match
from bot.matching.explain import describe_tandem, describe_unmatched, describe_warning
from bot.matching.model import MatchResult, Person, Rules, Weights

__all__ = [
    "DEFAULT_REFERENCE",
    "MatchResult",
    "Person",
    "Rules",
    "Weights",
    "describe_tandem",
    "describe_unmatched",
    "describe_warning",
    "greedy_match",
    "match",
]
