"""Keep a set of processes running, as `manage.py runall` does for the web server, the task
workers and the scheduler.

A process that exits is started again after a short back-off (a worker that exits with 0 was
recycled after its maximum number of tasks: at once), with a line naming it and its exit
code. A process that keeps dying within seconds of its start is reported as crashing at
start and retried every MAX_BACKOFF seconds rather than in a silent loop. Only `stop()` (on
Ctrl-C or SIGTERM) ends it: each process gets SIGTERM (a worker finishes its task), then a
second SIGTERM after `grace` seconds (a worker gives its task back), then SIGKILL.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

QUICK_EXIT = 10.0  # seconds: a process dying sooner after its start "crashed at start"
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
CRASH_LOOP = 5  # quick exits in a row before the process is reported as crashing at start


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class Child:
    name: str
    command: list[str]
    recyclable: bool = False  # exit code 0 means "done, start me again" (task workers)
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_exits: int = 0
    start_at: float = 0.0  # when to start it (again)
    restarts: int = 0
    reported_loop: bool = False


@dataclass
class Supervisor:
    children: list[Child]
    cwd: Path
    log: Callable[[str], None]
    grace: float = 30.0
    clock: Callable[[], float] = time.monotonic
    env: dict[str, str] | None = None
    first_backoff: float = FIRST_BACKOFF
    max_backoff: float = MAX_BACKOFF
    stopping: bool = field(default=False, init=False)

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(  # noqa: S603 - our own commands
            child.command, cwd=self.cwd, env=self.env, start_new_session=True
        )
        child.started = self.clock()

    def check(self) -> None:
        """One pass: note the processes that exited, start those whose time has come."""
        now = self.clock()
        for child in self.children:
            process = child.process
            if process is None:
                if now >= child.start_at and not self.stopping:
                    self.start(child)
                continue
            code = process.poll()
            if code is None:
                continue
            child.process = None
            child.restarts += 1
            if child.recyclable and code == 0:
                child.quick_exits, child.start_at = 0, now  # recycled after its max tasks
                continue
            lived = now - child.started
            child.quick_exits = child.quick_exits + 1 if lived < QUICK_EXIT else 1
            delay = min(self.max_backoff, self.first_backoff * 2 ** (child.quick_exits - 1))
            child.start_at = now + delay
            if child.quick_exits >= CRASH_LOOP:
                if not child.reported_loop:
                    self.log(
                        f"runall: {child.name} keeps crashing at start ({describe_exit(code)}, "
                        f"{child.quick_exits} times in a row, each within {QUICK_EXIT:.0f} s): "
                        f"see its output above; trying again every {self.max_backoff:.0f} s."
                    )
                    child.reported_loop = True
                continue
            child.reported_loop = False
            self.log(
                f"runall: {child.name} stopped unexpectedly ({describe_exit(code)}) after "
                f"{lived:.1f} s; starting it again in {delay:.1f} s."
            )

    def run(self, until: Callable[[], bool], every: float = 0.2) -> None:
        while not until():
            self.check()
            time.sleep(every)

    def stop(self) -> None:
        """SIGTERM, then SIGTERM again after `grace`, then SIGKILL five seconds later."""
        self.stopping = True
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            _signal_group(child, signal.SIGTERM)
        for second, wait in ((signal.SIGTERM, self.grace), (signal.SIGKILL, 5.0)):
            deadline = self.clock() + wait
            for child in running:
                assert child.process is not None
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=max(0.05, deadline - self.clock()))
            running = [c for c in running if c.process and c.process.poll() is None]
            for child in running:
                self.log(f"runall: {child.name} is still busy; sending {second.name}.")
                _signal_group(child, second)
        for child in running:
            assert child.process is not None
            child.process.wait(timeout=10)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    """SIGTERM to the process itself (a worker's extraction child keeps working until the
    worker ends it); SIGKILL to its whole group, so that no child outlives it."""
    assert child.process is not None
    try:
        if sig == signal.SIGKILL:
            os.killpg(child.process.pid, sig)
        else:
            child.process.send_signal(sig)
    except ProcessLookupError:
        pass
