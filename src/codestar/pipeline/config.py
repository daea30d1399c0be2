"""The parameters of a solve run, validated once, and the model that plays each role.

`SolveConfig` holds the numbers (how many samples, debug rounds, inputs, comparisons...);
`Models` holds one backend per role (generator, debugger, input writer, judge), each
defaulting to the generator, as in the paper's main runs where one model does everything.
Neither knows about methods: a method reads the fields it needs and ignores the rest.
This module does not open backends (see `codestar.llm.spec`).

    >>> SolveConfig(samples=4, rounds=1).samples
    4
    >>> SolveConfig(samples=0)
    Traceback (most recent call last):
    ...
    codestar.errors.ConfigError: samples must be at least 1, got 0 (use -n 1 or more)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from codestar.errors import ConfigError
from codestar.execution.types import Limits
from codestar.llm.backend import Backend

Role = Literal["generator", "debugger", "input_writer", "judge"]
#: How S* turns clusters and judge wins into a choice (see `codestar.pipeline.selection`).
SELECTION_RULES: tuple[str, ...] = ("weighted-wins", "algorithm-1", "size-first")
#: The sampling and debug prompt variants (``prompts/<variant>/``; ``default``: the top).
PROMPT_VARIANTS: tuple[str, ...] = ("default", "short")
ROLES: tuple[Role, ...] = ("generator", "debugger", "input_writer", "judge")


@dataclass(frozen=True, slots=True, kw_only=True)
class SolveConfig:
    """What a method may spend on one problem.

    samples: N independent candidates (paper: 16).
    rounds: R debug rounds per candidate on the public tests (paper: 2).
    temperature: sampling temperature of generation and debugging (paper: 0.7). The
        auxiliary stages (inputs, distinguishing inputs, judging, generated tests) run
        at temperature 0: they are asked once and should be reproducible.
    inputs: how many test inputs the input writer is asked for.
    max_comparisons: a cap on cluster pairs compared (largest clusters first);
        ``None`` compares every pair, as the paper does; ``0`` compares none, so S*
        chooses on execution evidence alone (cluster sizes, then the tie-breaks): the
        judge's ablation, and the cheap setting for a judge that decides nothing.
    max_tokens: the completion budget of every request.
    seed: seeds the sampling requests (sample i gets seed + i) and the tie-breaking
        random choices, so a run is reproducible on backends that honour seeds.
    limits: per-test limits of every execution (``None``: the engine's own).

    The switches below are issue 9's changes, each on by default and each switchable
    for an ablation:

    mutated_inputs: add mutants of the public inputs to the model's inputs for
        clustering and for distinguishing a pair (`codestar.pipeline.mutation`).
    mutations: how many mutants at most (24: on the 1.5B HumanEval pool, 8 mutants
        left 7 of the 28 problems with both correct and wrong candidates in one
        cluster, 24 left 4, and more changed nothing; `benchmarks/mutant_clustering.py`).
    input_retry: when fewer than 2 model inputs parse, ask once more with a shorter,
        stricter prompt at ``temperature`` (and run a generator script the model wrote
        for a stdin problem).
    selection_rule: ``weighted-wins`` (the default: cluster size as votes plus the
        votes of the clusters it beat, so a judgement can overturn a majority),
        ``algorithm-1`` (the paper: most wins) or ``size-first`` (the largest cluster;
        the judge only decides between clusters tied for the largest, and only those
        are compared: fewer calls, and no worse with the embedded models as judges).
    prefer_clean: among clusters the rule leaves tied (on score and size), choose the
        one that failed (crashed, timed out) on the fewest kept inputs before a random
        pick.
    exclude_broken: a kept candidate that fails on every kept input (crashes, times
        out, or prints nothing) is left out of S*'s clusters and comparisons, unless
        every kept candidate is (as majority vote leaves out such voters); with no
        public test, "kept" says nothing about whether a program runs at all.
    sanitize: for functional problems, drop top-level statements that are not imports,
        definitions or used assignments (the model's own asserts and demo calls).
    canonical_outputs: cluster on outputs canonicalised as the grader compares them.
    context_tokens: the context window of the models (prompt plus ``max_tokens``);
        prompts are cut to fit it (the embedded model's is 8,192).
    prompt_variant: the sampling and debug prompts: ``default``, or ``short`` (names
        the function, asks for one code block and nothing else), to be measured
        against each other (issue 9, section 3).
    """

    samples: int = 16
    rounds: int = 2
    temperature: float = 0.7
    inputs: int = 8
    max_comparisons: int | None = None
    max_tokens: int = 2048
    seed: int = 0
    limits: Limits | None = None
    mutated_inputs: bool = True
    mutations: int = 24
    input_retry: bool = True
    selection_rule: str = "weighted-wins"
    prefer_clean: bool = True
    exclude_broken: bool = True
    sanitize: bool = True
    canonical_outputs: bool = True
    context_tokens: int = 8192
    prompt_variant: str = "default"

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ConfigError(
                f"samples must be at least 1, got {self.samples}", hint="use -n 1 or more"
            )
        if self.rounds < 0:
            raise ConfigError(
                f"rounds must be 0 or more, got {self.rounds}",
                hint="use --rounds 0 to skip debugging",
            )
        if not 0.0 <= self.temperature <= 2.0:
            raise ConfigError(f"temperature must be between 0 and 2, got {self.temperature}")
        if self.inputs < 1:
            raise ConfigError(f"inputs must be at least 1, got {self.inputs}")
        if self.max_comparisons is not None and self.max_comparisons < 0:
            raise ConfigError(
                f"max_comparisons must be 0 or more, got {self.max_comparisons}",
                hint="leave it unset to compare every pair of clusters",
            )
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.mutations < 0:
            raise ConfigError(f"mutations must be 0 or more, got {self.mutations}")
        if self.selection_rule not in SELECTION_RULES:
            raise ConfigError(
                f"unknown selection rule {self.selection_rule!r}",
                hint=f"choose one of {', '.join(SELECTION_RULES)}",
            )
        if self.prompt_variant not in PROMPT_VARIANTS:
            raise ConfigError(
                f"unknown prompt variant {self.prompt_variant!r}",
                hint=f"choose one of {', '.join(PROMPT_VARIANTS)}",
            )
        if self.context_tokens < 512:
            raise ConfigError(f"context_tokens must be at least 512, got {self.context_tokens}")

    @property
    def prompt_tokens(self) -> int:
        """Tokens a prompt may take: the context less the completion budget (at least
        a quarter of the context, for models asked for long answers)."""
        return max(self.context_tokens - self.max_tokens, self.context_tokens // 4)

    def with_(self, **changes: object) -> SolveConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Models:
    """The backend behind each role; unset roles fall back to the generator.

    >>> from codestar.llm.scripted import ScriptedBackend
    >>> writer = ScriptedBackend(["1"], model="small")
    >>> Models(ScriptedBackend(["x"], model="big"), input_writer=writer).for_role("judge").model
    'big'
    """

    generator: Backend
    debugger: Backend | None = None
    input_writer: Backend | None = None
    judge: Backend | None = None

    def for_role(self, role: Role) -> Backend:
        """The backend that plays ``role``."""
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
        chosen: Backend | None = getattr(self, role)
        return chosen if chosen is not None else self.generator

    @classmethod
    def of(cls, roles: Any) -> Models:
        """The models of anything with a ``for_role(role)`` method (e.g. a session's
        `RoleBackends`)."""
        return cls(
            roles.for_role("generator"),
            debugger=roles.for_role("debugger"),
            input_writer=roles.for_role("input_writer"),
            judge=roles.for_role("judge"),
        )

    def map(self, wrap: Callable[[Backend], Backend]) -> Models:
        """Every role's backend through ``wrap``; roles that share a backend still share
        one (``wrap`` is called once per distinct backend).

        >>> from codestar.llm.scripted import ScriptedBackend
        >>> models = Models(ScriptedBackend(["x"])).map(lambda b: ScriptedBackend(["y"]))
        >>> models.for_role("judge") is models.for_role("generator")
        True
        """
        wrapped: dict[int, Backend] = {}

        def once(backend: Backend) -> Backend:
            if id(backend) not in wrapped:
                wrapped[id(backend)] = wrap(backend)
            return wrapped[id(backend)]

        return Models(
            once(self.generator),
            debugger=once(self.for_role("debugger")),
            input_writer=once(self.for_role("input_writer")),
            judge=once(self.for_role("judge")),
        )

    def distinct(self) -> tuple[Backend, ...]:
        """Every distinct backend, once each (to close them)."""
        seen: list[Backend] = []
        for role in ROLES:
            backend = self.for_role(role)
            if all(backend is not other for other in seen):
                seen.append(backend)
        return tuple(seen)

    def names(self) -> dict[str, str]:
        """Role -> model name, for the trace."""
        return {role: self.for_role(role).model for role in ROLES}
