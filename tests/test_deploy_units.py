"""The systemd units shipped in deploy/systemd: valid for systemd, restart policies that
never give up, and their commands, run as written, start the processes they name and stop
within the time the unit allows."""

import configparser
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import ROOT, Product, wait_for

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
CHECKOUT = "/srv/intersection"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(path)
    return parser


def _here(text: str) -> str:
    """The unit as it would be on this machine: this checkout, this Python, this user."""
    return (
        text.replace(f"{CHECKOUT}/.venv/bin/python", sys.executable)
        .replace(CHECKOUT, str(ROOT))
        .replace("User=intersection", "User=root")
    )


def test_the_three_processes_have_units_that_restart_whatever_happens() -> None:
    names = {path.name for path in UNITS}
    assert names == {
        "intersection-web.service",
        "intersection-scheduler.service",
        "intersection-worker@.service",
    }
    for path in UNITS:
        unit = _unit(path)
        assert unit["Service"]["Restart"] == "always", path.name
        assert unit["Unit"]["StartLimitIntervalSec"] == "0", path.name  # never gives up
        assert unit["Service"]["KillSignal"] == "SIGTERM", path.name
        assert unit["Service"]["KillMode"] == "mixed", path.name  # SIGKILL the rest at the end


ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed on this machine")
def test_systemd_finds_nothing_to_say_about_the_units(tmp_path: Path) -> None:
    (tmp_path / "env").write_text("")
    copies = []
    for path in UNITS:
        text = _here(path.read_text()).replace("/etc/intersection/env", str(tmp_path / "env"))
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
        copies.append(str(tmp_path / name))
    done = subprocess.run(
        [str(ANALYZE), "verify", *copies], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr.strip()) == (0, "")


def _command(name: str) -> list[str]:
    return shlex.split(_here(_unit(ROOT / "deploy" / "systemd" / name)["Service"]["ExecStart"]))


def test_the_worker_unit_starts_a_worker_that_stops_in_time(product: Product) -> None:
    unit = _unit(ROOT / "deploy" / "systemd" / "intersection-worker@.service")
    command = _command("intersection-worker@.service")
    assert command[1:3] == ["manage.py", "worker"]
    worker = product.start(*command[2:], log="unit-worker.log")
    wait_for(lambda: product.scalar("SELECT count(*) FROM core_taskworker"), what="a worker")
    worker.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert worker.wait(timeout=float(unit["Service"]["TimeoutStopSec"])) == 0
    assert time.monotonic() - started < float(unit["Service"]["TimeoutStopSec"])
    assert product.scalar("SELECT count(*) FROM core_taskworker") == 0  # said goodbye


def test_the_scheduler_unit_starts_a_scheduler_that_enqueues(product: Product) -> None:
    command = _command("intersection-scheduler.service")
    assert command[1:3] == ["manage.py", "scheduler"]
    scheduler = product.start(*command[2:], log="unit-scheduler.log")
    wait_for(
        lambda: product.scalar("SELECT count(*) FROM core_scheduledrun") >= 4,
        what="the periodic jobs enqueued",
    )
    scheduler.send_signal(signal.SIGTERM)
    assert scheduler.wait(timeout=30) == 0
