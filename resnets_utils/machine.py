"""This machine's CPU, named as the measurements and the grader's kinds of worker name it."""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_fields(cpuinfo: Path | str = CPUINFO) -> dict[str, str]:
    """The first processor's fields of ``cpuinfo`` (Linux); empty where there is none."""
    fields: dict[str, str] = {}
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_model(cpuinfo: Path | str = CPUINFO) -> str:
    """e.g. "AMD EPYC (family 26 model 2)": the family and model tell CPUs of one brand name apart."""
    fields = cpu_fields(cpuinfo)
    if "model name" not in fields:
        return platform.processor() or platform.machine() or "unknown CPU"
    return f"{fields['model name']} (family {fields.get('cpu family', '?')} model {fields.get('model', '?')})"


def cpu_name(cpuinfo: Path | str = CPUINFO) -> str:
    """The CPU's model and how many cores this process may use: "AMD EPYC (family 26 model 2) x2"."""
    return f"{cpu_model(cpuinfo)} x{os.cpu_count()}"


def cpu_flags(cpuinfo: Path | str = CPUINFO) -> set[str]:
    """The instruction-set extensions the CPU names (``flags``), e.g. ``avx512_bf16``."""
    return set(cpu_fields(cpuinfo).get("flags", "").split())
