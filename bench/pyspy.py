"""Sample a server child with py-spy while wrk loads it, and sum the samples up.

`py-spy record --format raw --function` writes one line per distinct stack,
`frame;frame;…;leaf COUNT`, each frame `function (path:line)`. Only samples where a thread
was running are kept: py-spy drops idle ones (`--nonblocking`, because pausing the process
makes its idle detection count waiting threads as busy), and samples still sitting in a
known wait (a thread pool's `Condition.wait`, the event loop's `select`) are counted apart.
So the shares are of CPU, not of wall time: on a CPU-bound server that is where a message's
time goes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.categories import category, is_ours

RATE = 250  # samples per second
TOP = 15


@dataclass(frozen=True, slots=True)
class SampleProfile:
    """Samples by category of the running function, and the hottest functions."""

    samples: int  # busy ones, the base of every share
    waiting: int  # samples in a known wait, left out of the shares
    seconds: float
    rate: int
    categories: tuple[tuple[str, int], ...]  # by the leaf (running) frame
    hottest: tuple[tuple[str, int], ...]  # leaf frames: self samples
    ours: tuple[tuple[str, int], ...]  # billbot's functions: samples with them on the stack

    def share(self, count: int) -> float:
        return count / self.samples if self.samples else 0.0


def find_py_spy() -> str | None:
    """py-spy from the virtualenv (the dev extras install it), else from PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record_command(py_spy: str, pid: int, seconds: float, output: Path) -> list[str]:
    return [
        py_spy,
        "record",
        f"--pid={pid}",
        f"--duration={max(1, round(seconds))}",
        f"--rate={RATE}",
        "--format=raw",
        "--function",
        "--nonblocking",
        f"--output={output}",
    ]


def start_recording(py_spy: str, pid: int, seconds: float, output: Path) -> subprocess.Popen[str]:
    """py-spy in the background; `finish_recording` waits for it and reads the samples."""
    command = record_command(py_spy, pid, seconds, output)
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish_recording(
    recorder: subprocess.Popen[str], output: Path, seconds: float
) -> SampleProfile:
    """Wait for py-spy; raises RuntimeError with its message when it could not sample."""
    try:
        _, stderr = recorder.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        recorder.wait()
        raise RuntimeError(f"py-spy did not finish within {seconds + 60:.0f} s") from None
    if recorder.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed ({recorder.returncode}): {stderr.strip()[-300:]}")
    return summarize(output.read_text(encoding="utf-8"), seconds=seconds, rate=RATE)


def summarize(raw: str, *, seconds: float, rate: int) -> SampleProfile:
    """Sum py-spy's raw stacks by the running frame's category and by function."""
    categories: Counter[str] = Counter()
    hottest: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    waiting = 0
    for stack, count in stacks(raw):
        leaf_function, leaf_file = split_frame(stack[-1])
        if is_waiting(leaf_function, leaf_file):
            waiting += count
            continue
        categories[category(leaf_file, leaf_function)] += count
        hottest[stack[-1]] += count
        for frame in dict.fromkeys(stack):  # a recursive function counts once per sample
            if is_ours(split_frame(frame)[1]):
                ours[frame] += count
    return SampleProfile(
        samples=sum(categories.values()),
        waiting=waiting,
        seconds=seconds,
        rate=rate,
        categories=tuple(categories.most_common()),
        hottest=tuple(hottest.most_common(TOP)),
        ours=tuple(ours.most_common(TOP)),
    )


def is_waiting(function: str, filename: str) -> bool:
    """A frame that only waits: a condition variable or the selector of an idle event loop."""
    name = filename.rpartition("/")[2]
    return (name == "threading.py" and function.endswith(".wait")) or name == "selectors.py"


def stacks(raw: str) -> list[tuple[list[str], int]]:
    """(frames root first, sample count) for every line of py-spy's raw output."""
    result = []
    for line in raw.splitlines():
        frames, _, count = line.rstrip().rpartition(" ")
        if frames and count.isdigit():
            result.append((frames.split(";"), int(count)))
    return result


def split_frame(frame: str) -> tuple[str, str]:
    """`"handle (bot/engine.py:103)"` → `("handle", "bot/engine.py")`; ("x", "") if no file."""
    function, _, where = frame.rpartition(" (")
    if not function or not where.endswith(")"):
        return frame, ""
    return function, where[:-1].rpartition(":")[0] or where[:-1]
