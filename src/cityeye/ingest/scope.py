"""What an ingest channel may be told, whoever sends it (issue 14).

Every channel that takes events from outside — HTTP with a token, Open311, MQTT —
holds them to two rules before they are stored:

* **People's moves come only from people.** :data:`~cityeye.domain.PEOPLE_KINDS`
  (a dispatch, a dismissal, a rating) are refused: people act signed in, through the
  cases API and the portal, where their role, party and area are checked.
* **A device of the world speaks as the world knows it.** An event that names a
  device of the loaded world must be of a kind that device's kind emits, and may not
  claim another area, subject, building or venue than the world's for it. The world
  fills those in when the event leaves them out, so an honest device loses nothing,
  and a stolen or misconfigured one cannot raise an SOS for someone else's parent or
  a smoke alarm in another street.

What a token may send on top of this (its device, source, area) is in
:mod:`cityeye.api.tokens`.
"""

from __future__ import annotations

from cityeye.domain import DEVICE_KINDS, PEOPLE_KINDS, Device, Event, FieldError, World


def check_not_a_person(event: Event) -> None:
    """Refuse a person's move on an ingest channel, naming the field."""
    if event.kind in PEOPLE_KINDS:
        raise FieldError(
            "kind",
            f"{event.kind} is a person's move: sign in and use /api/v1/cases/{{id}}/actions "
            "(a desk integration: a handler account's token); no ingest channel takes it",
        )


def check_from_outside(event: Event, world: World) -> None:
    """The rules every outside channel applies (see the module's docstring)."""
    check_not_a_person(event)
    device = world.devices.get(event.device_id) if event.device_id is not None else None
    if device is not None:
        check_device_claims(device, event, strict=False)


def check_device_claims(device: Device, event: Event, *, strict: bool) -> None:
    """An event that names a device of the world must agree with the world: a kind the
    device's kind emits, and no area, subject, building or venue but the device's.
    ``strict``: refuse a device kind whose event kinds are not documented (a device's
    own token); a gateway relaying such a device is let through on the rest."""
    info = DEVICE_KINDS.get(device.kind)
    if info is None:
        if strict:
            raise FieldError(
                "kind",
                f"device {device.id} is of kind {device.kind}, whose events are not "
                "documented; send it through a gateway token",
            )
    elif event.kind not in info.emits:
        raise FieldError(
            "kind",
            f"device {device.id} is a {info.kind} ({info.zh}), which sends "
            f"{', '.join(info.emits)}, not {event.kind}",
        )
    claims = (
        ("area", event.area, device.area),
        ("subject", event.subject, device.subject),
        ("attrs.building", event.attrs.get("building"), device.building),
        ("attrs.venue", event.attrs.get("venue"), device.venue),
    )
    for name, claimed, known in claims:
        if claimed is not None and claimed != known:
            raise FieldError(
                name,
                f"device {device.id} is "
                + (f"at {name} {known}" if known is not None else f"not bound to any {name}")
                + f" in the world, not {claimed}; leave it out and the world fills it in",
            )
