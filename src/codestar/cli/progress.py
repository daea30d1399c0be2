"""`codestar solve`'s reports on stderr: the progress line, and the summary at the end.

One line says where the run is: ``sampling · 41.2 s · sampled 3/4 · debug rounds 1 ·
passing public 2 · 1,830 tokens · 14.2 tok/s``. The stage comes from the model calls in
flight (starting the model, sampling, debugging, inputs, comparing) and, between calls,
from the pipeline's last event (running tests, clustering). On a terminal the line is
redrawn in place several times a second; otherwise (a file, a pipe, CI) one line is
written per event and per change of stage, never wrapped.

`summary_lines` says what a finished run did (candidates, inputs, clusters, the
decision, tokens per stage, cost, time).

It only reports: counting calls is `codestar.llm.activity`'s job, running them the
pipeline's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import click
from rich.text import Text

from codestar.llm.activity import Activity
from codestar.pipeline.orchestrator import Event
from codestar.pipeline.trace import SolveResult

#: What a call of each request stage means to a user watching the run.
CALL_STAGES = {
    "generate": "sampling",
    "debug": "debugging",
    "inputs": "inputs",
    "tests": "inputs",
    "distinguish": "comparing",
    "judge": "comparing",
    "other": "asking the model",
}

#: The stage between model calls, after the pipeline's last event of these kinds.
AFTER_EVENT = {
    "clustered": "comparing",
    "compared": "comparing",
    "stopped": "selecting",
    "selected": "done",
}


class SolveProgress:
    """Counts pipeline events and model calls; renders them as one status line.

    ``starting`` tells whether the embedded model is (still) to be started: its server
    is not up yet; with ``live`` False, every event and change of stage writes a line.
    """

    def __init__(
        self,
        samples: int,
        activity: Activity,
        *,
        live: bool,
        starting: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
        write: Callable[[str], None] = lambda line: click.echo(line, err=True),
    ) -> None:
        self.samples = samples
        self.activity = activity
        self.live = live
        self._starting = starting
        self._clock = clock
        self._write = write
        self._began = clock()
        self._lock = threading.Lock()
        self._last_event: str | None = None
        self._last_stage: str | None = None
        self._inputs_seen = False
        self.sampled = 0
        self.debug_rounds = 0
        self.passing: dict[int, bool] = {}
        self.notes: list[str] = []
        self.comparisons = 0
        activity.listener = self._calls_changed

    def __call__(self, event: Event) -> None:
        """Take a pipeline event (the orchestrator's ``progress`` callback)."""
        with self._lock:
            self._last_event = event.kind
            self._inputs_seen = self._inputs_seen or event.kind == "inputs"
            if event.kind == "sampled":
                self.sampled += 1
            elif event.kind == "debugged":
                self.debug_rounds += 1
            elif event.kind == "compared":
                self.comparisons += 1
            elif event.kind in ("inputs", "clustered", "stopped"):
                self.notes.append(event.detail)
            if event.candidate is not None and event.passed is not None:
                self.passing[event.candidate] = event.passed
        if not self.live:
            self._emit()

    def stage(self) -> str:
        if self._starting():
            return "starting the model"
        in_flight = self.activity.snapshot().in_flight
        named = dict.fromkeys(CALL_STAGES.get(stage, stage) for stage in in_flight)
        if named:
            return " + ".join(named)
        if self._last_event is None:
            snapshot = self.activity.snapshot()
            answered = snapshot.usage.calls + snapshot.cached_calls
            return "running tests" if answered else "starting"
        if self._last_event in AFTER_EVENT:
            return AFTER_EVENT[self._last_event]
        # Inputs may be written while candidates are still sampled: clustering starts
        # (running every candidate on them) once every sample is in.
        if self._inputs_seen and self.sampled >= self.samples:
            return "clustering"
        return "running tests"

    def line(self) -> str:
        snapshot = self.activity.snapshot()
        parts = [
            self.stage(),
            f"{self._clock() - self._began:.1f} s",
            f"sampled {self.sampled}/{self.samples}",
            f"debug rounds {self.debug_rounds}",
            f"passing public {sum(self.passing.values())}",
        ]
        parts.extend(self.notes[-2:])
        if self.comparisons:
            parts.append(f"comparisons {self.comparisons}")
        parts.append(f"{snapshot.usage.total_tokens:,} tokens")
        rate = snapshot.tokens_per_s
        parts.append(f"{rate:.1f} tok/s" if rate is not None else "- tok/s")
        if snapshot.cached_calls:
            parts.append(f"{snapshot.cached_calls} from the run store")
        return " · ".join(parts)

    def render(self) -> Text:
        return Text(self.line(), style="cyan")

    def refresh(self) -> None:
        """Write a line if the stage changed since the last one (in a log; a terminal's
        live line redraws by itself)."""
        if not self.live and self.stage() != self._last_stage:
            self._emit()

    def _calls_changed(self) -> None:
        self.refresh()

    def _emit(self) -> None:
        with self._lock:
            self._last_stage = self.stage()
            self._write(self.line())


def summary_lines(result: SolveResult) -> list[str]:
    """What a finished run did, for stderr: candidates, inputs, clusters, the decision,
    tokens, cost and time."""
    candidates = result.candidates
    passing = sum(c.passed for c in candidates)
    decided = sum(c.winner is not None for c in result.comparisons)
    lines = [
        f"method {result.method}: {len(candidates)} candidates, {passing} pass the public tests",
    ]
    if result.uses_hidden_tests:
        lines.append("uses hidden tests: the oracle is a bound (pass@N), not a selector")
    if result.stopped is not None:
        drawn = sum(bool(c.rounds) for c in candidates)
        lines.append(f"stopped early by a budget: {drawn} of {len(candidates)} samples drawn")
    if result.inputs or result.inputs_dropped or result.inputs_discarded:
        sources = ", ".join(
            f"{result.input_sources.count(source)} {source}"
            for source in dict.fromkeys(result.input_sources)
        )
        lines.append(
            f"inputs: {len(result.inputs)} kept{f' ({sources})' if sources else ''}, "
            f"{len(result.inputs_discarded)} discarded (most candidates crashed), "
            f"{result.inputs_dropped} malformed"
        )
    if result.clusters:
        sizes = ", ".join(str(len(c.members)) for c in result.clusters)
        lines.append(f"clusters: {len(result.clusters)} (sizes {sizes})")
    if result.comparisons:
        planned = result.comparisons_planned or len(result.comparisons)
        lines.append(
            f"comparisons: {len(result.comparisons)} of {planned} pairs "
            f"({3 * len(result.comparisons)} model calls), {decided} decided"
        )
    if result.context_overflows:
        lines.append(f"prompts over the context: {', '.join(result.context_overflows)}")
    lines.append(f"decision ({result.selection.rule}): {result.selection.reason}")
    usage = ", ".join(_stage_usage(result, stage) for stage in result.usage)
    lines.append(f"tokens: {usage or 'none'}; total {result.total_usage.total_tokens}")
    if result.total_cost is not None:
        lines.append(f"cost: {result.total_cost:.4f}")
    lines.append(f"time: {result.timings.get('total_s', 0.0):.1f} s")
    return lines


def _stage_usage(result: SolveResult, stage: str) -> str:
    usage, cached = result.usage[stage], result.cached.get(stage)
    from_store = f", {cached.calls} from the run store" if cached and cached.calls else ""
    return f"{stage} {usage.total_tokens} ({usage.calls} calls{from_store})"
