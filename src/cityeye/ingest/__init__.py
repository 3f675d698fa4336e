"""Ingest: every channel (files, HTTP, MQTT, Open311, hotline CSV) turns input into
events through one decoder, so validation is the same whichever way a signal arrives."""

from cityeye.ingest.decode import MAX_EVENT_BYTES, decode_event, shorten

__all__ = ["MAX_EVENT_BYTES", "decode_event", "shorten"]
