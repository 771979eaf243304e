"""What a flow answers the person who acted: a private reply, a form to open, a form
kept open with its errors, a form closed, or "working on it" with the rest to follow.
Each adapter turns an outcome into its platform's answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from conversations.forms import Form
from conversations.messages import Button, Message, Paragraph


@dataclass(frozen=True)
class Reply:
    """Answer the person privately, where they are (ephemeral on Slack, chat on Teams).

    ``replace``: for an answer to a button, the answer takes the place of the
    message that had the button (so it cannot be pressed again).
    """

    message: Message
    replace: bool = False


@dataclass(frozen=True)
class ShowForm:
    """Open ``form`` for the person (a modal on Slack, a card on Teams)."""

    form: Form


@dataclass(frozen=True)
class FormInvalid:
    """Keep the form open, values kept, with a message per field."""

    form: Form
    errors: Mapping[str, str]
    values: Mapping[str, object] = field(default_factory=dict)


Followup = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class FormDone:
    """Close the form; ``message`` replaces it where the platform shows forms inline.
    ``then`` runs once the platform has its answer (e.g. a confirmation DM)."""

    message: Message | None = None
    then: Followup | None = None


@dataclass(frozen=True)
class Working:
    """Answer at once with ``message``, then run ``then``: for slow work such as
    matching, whose results follow as their own messages."""

    message: Message
    then: Followup


Outcome = Reply | ShowForm | FormInvalid | FormDone | Working


def followup(outcome: Outcome) -> Followup | None:
    """The work an outcome leaves for after the answer, if any."""
    return outcome.then if isinstance(outcome, (Working, FormDone)) else None


async def follow_through(outcome: Outcome) -> None:
    """Run an outcome's follow-up now, for callers already past the answer."""
    then = followup(outcome)
    if then is not None:
        await then()


def reply(
    *paragraphs: str, title: str | None = None, buttons: Sequence[Button] = (),
    replace: bool = False,
) -> Reply:
    return Reply(Message(title, tuple(Paragraph(p) for p in paragraphs), tuple(buttons)),
                 replace=replace)
