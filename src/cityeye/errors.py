"""cityeye's errors: one family, rooted in :class:`CityeyeError`.

Every exception cityeye defines descends from :class:`CityeyeError`, in one of a few
families that say what went wrong in words any layer understands; only the web layer
turns a family into an HTTP status (``cityeye.api.app``, one handler for all), and the
command line prints a file's problems one per line. This module is the bottom of the
layers (``docs/architecture.md``): it imports nothing else from cityeye, so every
module can raise these.

The hierarchy (in brackets: the module that defines a class outside this one)::

    CityeyeError
    ├── InputError (ValueError) ············ 422  bad input; says what and why
    │   ├── FieldError ····························· one field: ``field: reason``
    │   │                                            (also cityeye.domain.FieldError)
    │   │   └── (participation's NotFound, Conflict, Refused, Blocked: also below)
    │   ├── ProblemsError ·························· a file with problems, every one
    │   │   ├── SourceError      [sourcefile]       not YAML/JSON at all
    │   │   ├── WorldError       [world.load]
    │   │   ├── ScenarioError    [scenarios.spec]   (the files of a catalogue)
    │   │   ├── MqttMapError     [ingest.mqtt_map]
    │   │   ├── HotlineError     [ingest.hotline.mapping]  (a mapping file or an export)
    │   │   └── NotifyError      [notifiers]
    │   └── TransitionError      [cases.lifecycle]  a case move the lifecycle refuses
    ├── NotFoundError ······················ 404  no such thing (or not yours to see)
    │   └── NotFound             [participation.service]
    ├── RefusedError ······················· 403  this person may not do this
    │   └── Refused              [participation.workflow]
    ├── ConflictError ······················ 409  not now: done already, taken, wrong step
    │   ├── Conflict             [participation.service]
    │   ├── Blocked              [participation.workflow]
    │   ├── UserExists (ValueError)  [store.users]
    │   ├── Taken                [store.elections]  a second ballot or candidate
    │   └── AlreadySeeded        [demo.participation]
    ├── AuthError ·························· 401  not signed in, or wrong credentials
    │   │                                        (also cityeye.accounts.AuthError)
    │   └── TokenError           [api.tokens]       an ingest token
    ├── ServiceError ······················· 503  something cityeye needs is away or broken
    │   ├── BusError (RuntimeError)        [nats_client]  the NATS bus
    │   ├── _Away (RuntimeError)           [live.bus]     NATS not connected now (internal)
    │   ├── AnalysisGone (RuntimeError)    [live.pipeline] the analysis process ended
    │   ├── DeliveryError (OSError)        [notifiers]     a webhook or SMS gateway
    │   └── ProtocolError                  [ingest.mqtt_wire] an MQTT broker
    ├── Open311Error             [api.open311]  an answer in the GeoReport v2 shape,
    │                                           with its own status (that router's)
    └── BodyTooLarge             [api.hardening] the body limit's signal to the app
                                                (its 413 is already sent)

Participation's errors belong to two families at once: ``NotFound`` is a
:class:`NotFoundError` *and* a :class:`FieldError` (it names the field, and every
``except FieldError`` still sees it); the web layer tries the families in the order
of ``cityeye.api.app.STATUS``, the specific ones before :class:`InputError`.

Catch what you can handle: ``except ProblemsError`` for any file with problems,
``except ServiceError`` for anything away, ``except CityeyeError`` for all of
cityeye's own. The builtin bases stay where callers catch them (a
:class:`FieldError` is a :class:`ValueError`, a ``DeliveryError`` an :class:`OSError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthError",
    "CityeyeError",
    "ConflictError",
    "FieldError",
    "InputError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "RefusedError",
    "ServiceError",
]


class CityeyeError(Exception):
    """The root of every error cityeye defines."""


# ---------------------------------------------------------------------- bad input
class InputError(CityeyeError, ValueError):
    """Input rejected (a request, an event, a file): ``str()`` says what and why, for
    the person who sent it. Still a :class:`ValueError`, as it always was."""


class FieldError(InputError):
    """Input rejected because of one field.

    ``field`` is a dotted path into the input (``attrs.level``, ``areas[3].parent``);
    ``reason`` is a sentence a person can act on. ``str()`` is ``field: reason``, so
    a user always sees the same shape and a batch can carry on past one bad item.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file: where (``line``, 1-based, when known), the field
    (``path``, as ``areas[3].parent``) and why (``message``). ``file``: the file it is
    in, when the error's ``source`` is not it (the problems of several files)."""

    path: str
    message: str
    line: int | None = None
    file: str | None = None

    @property
    def field(self) -> str:
        """The field at fault (``path``), as :class:`FieldError` calls it."""
        return self.path

    @property
    def reason(self) -> str:
        """Why (``message``), as :class:`FieldError` calls it."""
        return self.message

    def where(self, source: str) -> str:
        """``file:line``, or the file alone when the line is not known."""
        name = self.file or source
        return f"{name}:{self.line}" if self.line else name

    def render(self, source: str) -> str:
        """``file:line: field: reason``, the line a person reads."""
        return f"{self.where(source)}: {self.path}: {self.message}"


class ProblemsError(InputError):
    """A file (``source``: its name, or what the problems are about) that cannot be
    used; ``problems`` lists every problem found, not only the first. ``lines()``
    renders them one each as ``file:line: field: reason``; ``str()`` joins them."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [p.render(self.source) for p in self.problems]


# ---------------------------------------------------------------------- the others
class NotFoundError(CityeyeError):
    """No such thing, or none among those the caller may see."""


class RefusedError(CityeyeError):
    """The person may not do this (signed in, but not allowed)."""


class ConflictError(CityeyeError):
    """Not now: done already, taken already, or not at this step."""


class AuthError(CityeyeError):
    """Not signed in, or the credentials are wrong."""


class ServiceError(CityeyeError):
    """Something cityeye relies on is away or misbehaves: the bus, the analysis
    process, a webhook or SMS gateway, an MQTT broker."""
