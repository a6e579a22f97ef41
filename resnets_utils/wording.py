"""Numbers in words as the course prints them: counts with their noun, durations."""

from __future__ import annotations


def counted(number: float, noun: str) -> str:
    """``counted(1, "point")`` -> ``"1 point"``; ``counted(3, "worker")`` -> ``"3 workers"``."""
    return f"{number:g} {noun}{'' if number == 1 else 's'}"


def duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``; ``42`` -> ``"42 s"``."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
