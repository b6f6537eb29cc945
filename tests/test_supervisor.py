"""runall's supervisor with small real processes: what it restarts, how it reports a
process that crashes at start, and how it stops them."""

import sys
import time
from pathlib import Path

from intersection.core.supervisor import Child, Supervisor, describe_exit


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _run(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    supervisor.run(until=lambda: time.monotonic() > deadline, every=0.02)


def test_a_process_that_keeps_crashing_at_start_is_reported_once_and_retried(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    crashing = Child("scheduler", _python("import sys; sys.exit(3)"))
    supervisor = Supervisor(
        [crashing], cwd=tmp_path, log=lines.append, first_backoff=0.01, max_backoff=0.05
    )
    _run(supervisor, 3)
    supervisor.stop()
    restarted = [line for line in lines if "stopped unexpectedly" in line]
    looping = [line for line in lines if "keeps crashing at start" in line]
    assert restarted[0].startswith("runall: scheduler stopped unexpectedly (exit code 3)")
    assert len(restarted) == 4  # then the crash loop is named instead of repeated
    assert len(looping) == 1 and "exit code 3, 5 times in a row" in looping[0]
    assert crashing.restarts > 10  # still retried, at the slow pace


def test_a_recycled_worker_is_started_again_at_once_without_a_warning(tmp_path: Path) -> None:
    lines: list[str] = []
    worker = Child("worker-1", _python("pass"), recyclable=True)
    supervisor = Supervisor([worker], cwd=tmp_path, log=lines.append, first_backoff=5)
    _run(supervisor, 1.5)
    supervisor.stop()
    assert worker.restarts >= 3 and lines == []


def test_stopping_lets_a_busy_process_finish_then_insists(tmp_path: Path) -> None:
    finished = tmp_path / "finished"
    # Finishes its work (0.3 s) on the first SIGTERM, as a worker finishes its task.
    polite = _python(
        "import signal, time, pathlib\n"
        "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(0.3),"
        f" pathlib.Path({str(finished)!r}).write_text('yes'), exit(0)))\n"
        "time.sleep(60)\n"
    )
    stubborn = _python(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"
    )
    lines: list[str] = []
    children = [Child("worker-1", polite), Child("web", stubborn)]
    supervisor = Supervisor(children, cwd=tmp_path, log=lines.append, grace=0.5)
    supervisor.check()
    time.sleep(0.5)  # both have set their signal handlers
    started = time.monotonic()
    supervisor.stop()
    assert finished.read_text() == "yes"
    assert children[1].process is not None and children[1].process.returncode == -9
    assert lines == [
        "runall: web is still busy; sending SIGTERM.",
        "runall: web is still busy; sending SIGKILL.",
    ]
    assert time.monotonic() - started < 20


def test_exits_are_described_for_an_operator() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(1) == "exit code 1"
