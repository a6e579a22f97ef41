"""The CPU's name and flags, as measurements and the grader's worker kinds record them."""

import os

from resnets_utils import machine

# Two processors of one CPU, as Linux lists them; only the first one's fields count.
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: {family}
model\t\t: {model}
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx2 {flags}

processor\t: 1
cpu family\t: 99
model name\t: another CPU
"""


def _cpuinfo(tmp_path, family=25, model=1, flags=""):
    path = tmp_path / f"cpuinfo-{family}-{model}"
    path.write_text(CPUINFO.format(family=family, model=model, flags=flags))
    return path


def test_one_brand_name_is_told_apart_by_family_and_model(tmp_path):
    zen3, zen5 = _cpuinfo(tmp_path, 25, 1), _cpuinfo(tmp_path, 26, 2)
    assert machine.cpu_model(zen3) == "AMD EPYC (family 25 model 1)"
    assert machine.cpu_model(zen3) != machine.cpu_model(zen5)
    assert machine.cpu_name(zen5) == f"AMD EPYC (family 26 model 2) x{os.cpu_count()}"


def test_flags_are_the_first_processors(tmp_path):
    assert machine.cpu_flags(_cpuinfo(tmp_path, flags="avx512_bf16")) == {"fpu", "sse2", "avx2", "avx512_bf16"}


def test_without_cpuinfo_the_platform_names_the_cpu(tmp_path):
    absent = tmp_path / "absent"
    assert machine.cpu_fields(absent) == {} and machine.cpu_flags(absent) == set()
    assert machine.cpu_model(absent) and machine.cpu_name(absent).endswith(f" x{os.cpu_count()}")
