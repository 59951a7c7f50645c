"""How the benchmarks print a result table."""

from __future__ import annotations


def print_table_head(title: str, header: str) -> None:
    """The table's title and its column header with a rule under it, each after a blank line."""
    print()
    print(title)
    print()
    print(header)
    print("-" * len(header))
