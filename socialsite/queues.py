"""Queue names. Latency-sensitive work never shares a queue with heavy graph computation."""

NOTIFICATIONS = "notifications"
GRAPH = "graph"
DEFAULT = "default"
MAINTENANCE = "maintenance"
ALL = (NOTIFICATIONS, GRAPH, DEFAULT, MAINTENANCE)
