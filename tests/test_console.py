"""Console hygiene: library loggers quieted and printed once; progress is a bar or a few lines."""

from __future__ import annotations

import io
import logging
import warnings

import pytest

from gogooku3 import console
from gogooku3.console import Progress, progress_mode, quiet_third_party


@pytest.fixture
def fake_library(monkeypatch):
    """A library logger with its own handler at INFO (what Lightning does on import)."""
    lib = logging.getLogger("fakelib_console")
    pinned = logging.getLogger("fakelib_console.docs")
    lib.setLevel(logging.INFO)
    lib.addHandler(logging.StreamHandler(io.StringIO()))
    pinned.setLevel(logging.INFO)  # a module pinning its own level (GE's data_context does)
    monkeypatch.setattr(console, "THIRD_PARTY", ("fakelib_console",))
    yield lib, pinned
    for logger in (lib, pinned):
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


@pytest.fixture
def root_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_quiet_third_party_levels_and_single_copy(fake_library, root_handler):
    lib, pinned = fake_library
    quiet_third_party()
    assert lib.level == logging.WARNING and pinned.level == logging.WARNING
    assert lib.handlers == [] and lib.propagate
    logging.getLogger("fakelib_console.docs").info("Skipping registering function")
    logging.getLogger("fakelib_console").warning("disk almost full")
    lines = root_handler.getvalue().splitlines()
    assert lines == ["disk almost full"]  # once, through root; the INFO line is gone


def test_quiet_third_party_keeps_stricter_levels(fake_library):
    lib, _ = fake_library
    lib.setLevel(logging.ERROR)
    quiet_third_party()
    assert lib.level == logging.ERROR


def test_quiet_third_party_filters_library_noise():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_third_party()
        warnings.warn("The number of training batches (4) is smaller than the logging interval Trainer(...)")
        warnings.warn("a real problem")
    assert [str(w.message) for w in caught] == ["a real problem"]


def test_progress_mode_env_and_tty(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv(console.PROGRESS_ENV, raising=False)
    assert progress_mode(io.StringIO()) == "log"
    assert progress_mode(Tty()) == "bar"
    monkeypatch.setenv(console.PROGRESS_ENV, "off")
    assert progress_mode(Tty()) == "off"


def test_progress_log_mode_is_silent_when_quick(caplog):
    caplog.set_level(logging.INFO, logger="gogooku3")
    with Progress(100, "quick phase", mode="log", every=3600) as bar:
        for _ in range(100):
            bar.update()
    assert not [r for r in caplog.records if "quick phase" in r.getMessage()]


def test_progress_log_mode_reports_long_phases(caplog):
    caplog.set_level(logging.INFO, logger="gogooku3")
    with Progress(None, "slow phase", unit="part", mode="log", every=0) as bar:
        bar.add_total(4)
        bar.update(1, "first")
        bar.set(4)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("slow phase")]
    assert messages[0].startswith("slow phase: 1/4 part (25%)") and messages[0].endswith("(first)")
    assert messages[-1].startswith("slow phase: done: 4/4 part (100%)")


def test_progress_bar_mode_writes_no_log_lines(caplog, capsys):
    caplog.set_level(logging.INFO, logger="gogooku3")
    with Progress(3, "bar phase", mode="bar", every=0) as bar:
        bar.update(3)
    assert not caplog.records
    assert "bar phase" in capsys.readouterr().err


def test_progress_log_lines_thin_out_over_time(caplog, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(console.time, "monotonic", lambda: clock[0])
    caplog.set_level(logging.INFO, logger="gogooku3")
    with Progress(1000, "long phase", mode="log", every=30) as bar:
        for _ in range(1000):  # one step per second for 1000 s
            clock[0] += 1
            bar.update()
    times = [r.getMessage().split(", ")[-1] for r in caplog.records if r.getMessage().startswith("long phase")]
    assert times == ["30s", "90s", "3.5min", "7.5min", "15.5min", "16.7min"]  # then the closing line
