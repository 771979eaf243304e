"""What a scheduled kind is, and how one occasion of it reaches its audience.

The kinds themselves are declared in ``conversations.scheduled`` (the registry);
``conversations.rhythm.run_due`` asks each kind what is due and hands every
occasion to ``deliver``. Who sees what depends only on the kind's audience:

- ``CHANNELS``: every programme channel (or the occasion's own channels), in the
  programme's language;
- ``COORDINATORS``: each coordinator privately, in the programme's language;
- ``TANDEM``: both partners, in one shared chat where the platform has one, else
  each privately in their own language (an occasion for one partner, because
  partners get it at their own local time, goes to that partner only);
- ``PERSON``: one participant privately, in their language.

Every occasion is claimed in the outbox under its delivery key before it is sent,
so it goes out once however often ``run_due`` runs (see ``conversations.outbox``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.core.i18n import t
from conversations.context import FlowContext
from conversations.events import ButtonPress
from conversations.messages import Button, Message
from conversations.outbox import Sent, settled
from conversations.outcomes import Outcome
from conversations.owed import Owed, claimed, for_channels, for_person, for_tandem
from conversations.schedule import RoundDates
from conversations.tandem_delivery import to_channels, to_coordinators, to_person, to_tandem
from storage import deliveries
from storage.db import Session
from storage.models import Meeting, Participant, ParticipantStatus, Reminder, Round
from storage.tandems import TandemPeople

ButtonHandler = Callable[[FlowContext, ButtonPress], Awaitable[Outcome]]


class Audience(StrEnum):
    CHANNELS = "channels"
    COORDINATORS = "coordinators"
    TANDEM = "tandem"
    PERSON = "person"


@dataclass(frozen=True)
class ButtonSpec:
    """A button a kind's message carries: its action id, the catalogue key of its
    label, and the flow that answers it (None for a command button, which the
    router runs as the command)."""

    action: str
    label: str
    handler: ButtonHandler | None
    style: Literal["primary", "danger"] | None = None


@dataclass
class Situation:
    """What ``run_due`` knows at one instant: loaded once, read by every kind."""

    ctx: FlowContext
    now: datetime
    round: Round
    dates: RoundDates
    pairs: list[TandemPeople]
    #: check-in answers by (tandem id, period)
    answers: dict[tuple[int, int], str] = field(default_factory=dict)
    reminders: list[Reminder] = field(default_factory=list)
    #: agreed meetings by (tandem id, period)
    meetings: dict[tuple[int, int], Meeting] = field(default_factory=dict)


@dataclass(frozen=True)
class Due:
    """One occasion of a kind that is due now. ``params`` fill the delivery key,
    the button value and the message."""

    params: Mapping[str, Any] = field(default_factory=dict)
    pair: TandemPeople | None = None
    person: Participant | None = None
    #: (platform, channel) pairs for a CHANNELS occasion with its own channels
    channels: tuple[tuple[str, str], ...] | None = None


When = Callable[[Situation], Awaitable[list[Due]]]
Build = Callable[[Situation, Due, str, Participant | None], Message]
#: A decision recorded with the messages, in the transaction that owes them (which guide
#: each nudge shows), for many occasions at once: the occasions, in their order, with
#: what was decided in their params.
Decide = Callable[[Session, Situation, list[Due]], Awaitable[list[Due]]]
#: What an occasion owes, where it is not (only) a message: a person added to a channel.
Owes = Callable[[Situation, Due, str], list[Owed]]


@dataclass(frozen=True)
class Kind:
    """One kind of scheduled message, declared once in ``conversations.scheduled``.

    - ``name``: the outbox kind and the name in ``run-due``'s report;
    - ``switch``: the ``rhythm.messages`` key in app.yaml that turns it off (None:
      always on); each switch has a ``switch.<name>`` catalogue key saying what it does;
    - ``when``: the occasions due at the situation's instant;
    - ``audience``: who gets it (see the module docstring);
    - ``message``: the message for one language (and reader, where there is one);
    - ``key``: the delivery key, a template over ``round``, ``tandem``, ``person``
      and the occasion's params. Never change a kind's key: the outbox of every
      running database remembers what it sent under it;
    - ``buttons`` and ``value``: the buttons under the message, the template of
      their value, and who answers them (the router's button table comes from here);
    - ``decide``: for a message that shows a decision which must be kept (a nudge's
      guide): made and written in the transaction that records the message as owed
      (``conversations.owed``), then sent; for a chunk of occasions at once
      (``owe_decided``);
    - ``owes``: what the occasion owes instead of its message (given the delivery
      key), recorded as owed and then done the same way.
    """

    name: str
    switch: str | None
    when: When
    audience: Audience
    message: Build
    key: str
    buttons: tuple[ButtonSpec, ...] = ()
    value: str = ""
    decide: Decide | None = None
    owes: Owes | None = None

    def delivery_key(self, s: Situation, due: Due) -> str:
        return self.key.format(**_fields(s, due))

    def render(self, s: Situation, due: Due, language: str, reader: Participant | None
               ) -> Message:
        message = self.message(s, due, language, reader)
        if not self.buttons:
            return message
        value = self.value.format(**_fields(s, due))
        return replace(message, buttons=message.buttons + tuple(
            Button(spec.action, t(language, spec.label), value, spec.style)
            for spec in self.buttons))

    def on(self, s: Situation) -> bool:
        return self.switch is None or s.ctx.config.rhythm.sends(self.switch)

    @property
    def decided(self) -> bool:
        """Whether its occasions go through ``owe_decided`` (a decision or something
        owed, written in one transaction with the messages) instead of ``deliver``."""
        return self.audience is not Audience.COORDINATORS and (
            self.decide is not None or self.owes is not None)


def _fields(s: Situation, due: Due) -> dict[str, Any]:
    return {
        "round": s.round.id,
        "tandem": due.pair.tandem.id if due.pair else "",
        "person": due.person.id if due.person else "",
        **due.params,
    }


def _renderers(s: Situation, kind: Kind, due: Due
               ) -> tuple[Callable[[str], Message], Callable[[str, Participant], Message]]:
    """The occasion's message for everyone alike, and for one reader."""

    def shared(language: str) -> Message:
        return kind.render(s, due, language, None)

    def personal(language: str, reader: Participant) -> Message:
        return kind.render(s, due, language, reader)

    return shared, personal


async def deliver(s: Situation, kind: Kind, due: Due) -> list[Sent]:
    """Send one occasion to its audience, once per delivery key (a kind that is not
    ``decided``: those go through ``owe_decided``)."""
    ctx, key, round_id = s.ctx, kind.delivery_key(s, due), s.round.id
    shared, personal = _renderers(s, kind, due)
    if kind.audience is Audience.CHANNELS:
        return await to_channels(ctx, key, round_id, shared, due.channels)
    if kind.audience is Audience.COORDINATORS:
        return await to_coordinators(ctx, key, round_id,
                                     lambda language, _messenger: shared(language))
    person = due.person
    if person is not None and _gone(kind, person):
        return []
    if kind.audience is Audience.TANDEM:
        assert due.pair is not None
        if person is None:
            return await to_tandem(ctx, due.pair, round_id, kind.name, key, personal)
        key = f"{key}:{person.id}"
    assert person is not None
    return [await to_person(ctx, person, round_id, kind.name, key, personal)]


def _gone(kind: Kind, person: Participant) -> bool:
    """A partner nudged on their own who cannot be reached or left: skipped."""
    return kind.audience is Audience.TANDEM and (
        person.unreachable_at is not None or person.status == ParticipantStatus.LEFT)


@dataclass
class Owing:
    """What ``owe_decided`` wrote: the messages this sender wrote claimed (send each
    with ``deliver_claimed``), the keys owed before (another instance's, an earlier
    run's: ``deliver_owed``, through their claim), and how many occasions were
    settled already."""

    claimed: list[Owed] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    settled: int = 0


async def owe_decided(s: Situation, kind: Kind, occasions: list[Due]) -> Owing:
    """Decide a chunk of a ``decided`` kind's occasions (a nudge's guide) and owe their
    messages, in ONE transaction; send them after it (``Owing``).

    A fan-out of thousands of nudges spent most of its time committing one such
    transaction per tandem; a chunk's decisions are read and written together."""
    keyed: dict[str, Due] = {}
    owing = Owing()
    for due in occasions:
        if due.person is not None and _gone(kind, due.person):
            continue
        key = kind.delivery_key(s, due)
        if kind.audience is Audience.TANDEM and due.person is not None:
            key = f"{key}:{due.person.id}"
        if key in settled.get():
            owing.settled += 1
        else:
            keyed.setdefault(key, due)
    if not keyed:
        return owing
    now = s.ctx.clock.now()
    async with s.ctx.db.session() as session:
        dues = list(keyed.values())
        if kind.decide is not None:
            dues = await kind.decide(session, s, dues)
        found: dict[str, Owed] = {}
        for key, due in zip(keyed, dues, strict=True):
            for o in kind.owes(s, due, key) if kind.owes is not None else owe(s, kind, due):
                found.setdefault(o.claim.key, o)
        # Written already claimed by this sender, as the sign-up summary is: sent right
        # after the commit with no claim of its own (a second write transaction per
        # message); ``run_due`` takes them over if this sender dies. A key owed before
        # (another instance's, an earlier run's) goes through its claim as always.
        mine = await deliveries.owe_each(
            session, [claimed(s.ctx, o, now) for _, o in sorted(found.items())])
    owing.claimed = [o for key, o in found.items() if key in mine]
    owing.before = [key for key in found if key not in mine]
    return owing


def owe(s: Situation, kind: Kind, due: Due) -> list[Owed]:
    """The messages of one occasion as owed (``conversations.owed``), for a change
    that causes it now (a round ended early): the same audience and delivery keys as
    ``deliver``, so the rhythm never sends them again. Not for coordinators: their
    languages are asked of the platform, which a transaction must not wait for."""
    ctx, key, round_id = s.ctx, kind.delivery_key(s, due), s.round.id
    shared, personal = _renderers(s, kind, due)
    if kind.audience is Audience.CHANNELS:
        channels = set(due.channels) if due.channels is not None else None
        return [o for o in for_channels(ctx, key, round_id, "announcement", shared)
                if channels is None or (o.claim.platform, o.targets[0]) in channels]
    if kind.audience is Audience.COORDINATORS:
        raise ValueError(f"{kind.name}: coordinators' messages are not owed from here")
    person = due.person
    if kind.audience is Audience.TANDEM and person is None:
        assert due.pair is not None
        return for_tandem(ctx, due.pair, round_id, kind.name, key, personal)
    assert person is not None
    if kind.audience is Audience.TANDEM:
        key = f"{key}:{person.id}"
    return for_person(ctx, person, round_id, kind.name, key, personal)
