"""One benchmark target: serve it, open the session pool, warm up, measure, maybe sample."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.pyspy import SampleProfile, finish_recording, start_recording
from bench.results import LoadResult, Outcome
from bench.servers import Server, serving
from bench.sessions import WarmUpError, create_sessions
from bench.wrk import WrkError


class LoadClient(Protocol):
    """Drives `connections` connections of "balance" against a server for `seconds`."""

    @property
    def label(self) -> str: ...

    def run(
        self, name: str, base_url: str, sessions: Sequence[str], seconds: float
    ) -> LoadResult: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """The same for every target of a run."""

    client: LoadClient
    connections: int
    seconds: float
    warmup_seconds: float
    sessions: int
    py_spy: str | None = None  # sample billbot servers under an extra run when set


@dataclass(frozen=True, slots=True)
class Measured:
    outcome: Outcome
    samples: SampleProfile | None = None
    sample_error: str = ""


def measure(server: str, database: str, app: str, env: Mapping[str, str], plan: Plan) -> Measured:
    """Serve `app` in a child process and load it; a failure becomes a broken Outcome."""
    try:
        with serving(app, env) as child:
            pool = warm_up(child, plan)
            result = plan.client.run(f"{server} ({database})", child.url, pool, plan.seconds)
            if plan.py_spy is None or app != "billbot":
                return Measured(Outcome(server, database, result))
            return sampled(Outcome(server, database, result), child, pool, plan, plan.py_spy)
    except (RuntimeError, WarmUpError, WrkError, OSError) as exc:
        return Measured(Outcome(server, database, note=one_line(exc), broken=True))


def warm_up(child: Server, plan: Plan) -> list[str]:
    """Open the session pool (one first message each), then a short untimed load over it."""
    pool = asyncio.run(create_sessions(child.url, plan.sessions, concurrency=plan.connections))
    plan.client.run("warm-up", child.url, pool, plan.warmup_seconds)
    return pool


def sampled(outcome: Outcome, child: Server, pool: list[str], plan: Plan, py_spy: str) -> Measured:
    """Another run of the same load with py-spy attached (not the measured one: py-spy slows
    the process it samples)."""
    with tempfile.TemporaryDirectory(prefix="billbot-py-spy-") as tmp:
        output = Path(tmp) / "stacks.txt"
        recorder = start_recording(py_spy, child.pid, plan.seconds, output)
        try:
            plan.client.run("profiled", child.url, pool, plan.seconds + 1)
            return Measured(outcome, finish_recording(recorder, output, plan.seconds))
        except (RuntimeError, WarmUpError, OSError) as exc:  # the measured result still counts
            return Measured(outcome, sample_error=one_line(exc))
        finally:
            if recorder.poll() is None:
                recorder.kill()
                recorder.wait()


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"
