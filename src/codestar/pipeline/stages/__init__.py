"""The S* stages, each a small async function over a `Run` (model calls + executions).

- `generation`: sample a candidate and debug it on the public tests (the full history).
- `synthesis`: the model writes test inputs (or, for generated-tests, whole tests).
- `clustering`: run the kept candidates on the inputs and group equal behaviour.
- `comparison`: distinguish-and-judge a pair of clusters; judge two programs from code.

The stages never decide which program wins (see `codestar.pipeline.selection`) and never
schedule each other (methods compose them; the `Run` makes independent work overlap).
"""

from codestar.pipeline.stages.clustering import Clustering, cluster
from codestar.pipeline.stages.comparison import compare_clusters, judge_code
from codestar.pipeline.stages.generation import develop, develop_all
from codestar.pipeline.stages.synthesis import generate_tests, synthesize_inputs

__all__ = [
    "Clustering",
    "cluster",
    "compare_clusters",
    "develop",
    "develop_all",
    "generate_tests",
    "judge_code",
    "synthesize_inputs",
]
