"""Helpers shared by the benchmarks: `stats` (percentiles, medians, phase laps, timed series, peak
memory), `services` (databases, Redis DB numbers, RabbitMQ vhosts, Django child processes) and `report`
(how a result table starts)."""
