"""Numbers in words as the course prints them: counts with their noun, durations."""

from __future__ import annotations

from resnets_utils.language import N_, say

SECONDS = N_("{seconds} s")
MINUTES_SECONDS = N_("{minutes} min {seconds:02d} s")


def counted(number: float, noun: str) -> str:
    """``counted(1, "point")`` -> ``"1 point"``; ``counted(3, "worker")`` -> ``"3 workers"``."""
    return f"{number:g} {noun}{'' if number == 1 else 's'}"


def _duration(seconds: float) -> tuple[str, dict]:
    """The template of a duration and its fields: minutes and seconds, or seconds alone."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    return (MINUTES_SECONDS, {"minutes": minutes, "seconds": seconds}) if minutes else (SECONDS, {"seconds": seconds})


def duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``; ``42`` -> ``"42 s"``."""
    template, fields = _duration(seconds)
    return template.format(**fields)


def said_duration(seconds: float) -> str:
    """:func:`duration` in the student's language (the instructor's tools keep ``duration``, in English)."""
    template, fields = _duration(seconds)
    return say(template, **fields)
