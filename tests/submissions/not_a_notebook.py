"""The file was saved half-way: not valid JSON."""

SCORE = 0


def build(kit):
    return '{"cells": [{"cell_type": "code", "source": "def identity_block('
