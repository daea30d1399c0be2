"""The execution benchmark: codestar's engine beside LiveCodeBench's harness and a reference.

``workload`` builds the programs and tests (from the shared LiveCodeBench data, and from
``heavy`` and ``hostile``), ``reference`` is the subprocess-per-test judge that gives the
ground-truth verdicts (its child process is ``reference_child``), ``lcb_anchor`` runs
LiveCodeBench's own harness out of tree, ``compare`` turns the runs into figures and
disagreements, and ``run`` is the driver. See ``docs/benchmarks.md``. Nothing here is
part of the installed package.
"""
