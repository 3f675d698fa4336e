"""The live runtime: what runs while a district is served, as opposed to replaying a
file (:mod:`cityeye.backtest`).

- :mod:`~cityeye.live.pipeline` — events in (decode, store durably), analysed here:
  the engine deciding on arrival, the case book, snapshots and restart.
- :mod:`~cityeye.live.bus` — the same over NATS JetStream: ingest publishes, workers
  analyse one partition each on one shared clock.
- :mod:`~cityeye.live.clock` — what "now" is: the wall clock, or a demo's simulated one.
- :mod:`~cityeye.live.playback` — a demo: a recorded day fed in on the simulated clock.
- :mod:`~cityeye.live.ticks` — the heartbeat: the clock moves event time on (timers),
  snapshots now and then.
- :mod:`~cityeye.live.split` — ``serve --analysis process``: the HTTP process stores
  (group commit), the analysis process analyses.

``cityeye serve`` and ``cityeye worker`` are put together from these, the API and the
ingest channels in :mod:`cityeye.serve`, above this package (it builds the web app,
which imports this package: docs/architecture.md).
"""
