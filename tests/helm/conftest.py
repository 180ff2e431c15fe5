"""Fixtures of the chart tests."""

from __future__ import annotations

from collections.abc import Iterator

import helm_python as helm
import pytest

from .chartlib import CHART


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    c = helm.Chart.load(CHART)
    yield c
    c.close()
