"""Helpers shared by the benchmarks: `stats` (percentiles, medians, phase laps, timed series, peak
memory) and `services` (databases, Redis DB numbers, RabbitMQ vhosts, Django child processes)."""
