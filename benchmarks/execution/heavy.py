"""Workload (b), compute-bound part: heavy programs written for the benchmark.

Each heavy program solves a classic task at n up to 2e5 (sorting, prefix sums, BFS on a
big graph, string building, big-number arithmetic, union-find, longest increasing
subsequence, a long JSON return value) and comes with a seeded input generator and an
independent oracle that computes the expected output in the benchmark process. One of
them is deliberately wrong on large inputs (it drops duplicates), so that a wrong answer
appears after passing tests.

The hostile programs are in `benchmarks.execution.hostile`. This module only describes
programs; it runs nothing.
"""

from __future__ import annotations

import random
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from codestar.problems.model import ProblemKind

#: Sizes of the tests of every heavy program: a small one, then large ones.
HEAVY_SIZES = (1_000, 100_000, 200_000, 200_000)

InputMaker = Callable[[random.Random, int], str]
Oracle = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class HeavyProgram:
    """A benchmark program with a way to make its inputs and their expected outputs.

    ``oracle`` maps an input text to the expected output text; ``sizes`` gives one test
    per entry (the ``n`` handed to ``make_input``).
    """

    name: str
    source: str
    make_input: InputMaker
    oracle: Oracle
    kind: ProblemKind = ProblemKind.STDIN
    entry_point: str | None = None
    sizes: tuple[int, ...] = HEAVY_SIZES


def _ints(text: str) -> list[int]:
    return [int(token) for token in text.split()]


# --- sorting -------------------------------------------------------------------------

_SORT = """\
import sys

def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    values = sorted(map(int, data[1:n + 1]))
    sys.stdout.write(" ".join(map(str, values)) + "\\n")

main()
"""

# Wrong: deduplicates, which only shows once the values repeat (large n, small range).
_SORT_DEDUP = """\
n = int(input())
values = sorted(set(map(int, input().split())))
print(*values)
"""


def _sort_input(rng: random.Random, n: int) -> str:
    high = 10**9 if n <= 1_000 else 50_000
    values = [rng.randint(-high, high) for _ in range(n)]
    return f"{n}\n{' '.join(map(str, values))}\n"


def _sort_oracle(text: str) -> str:
    numbers = _ints(text)
    return " ".join(map(str, sorted(numbers[1 : numbers[0] + 1])))


# --- prefix sums -----------------------------------------------------------------------

_PREFIX = """\
import sys
input = sys.stdin.readline

n, q = map(int, input().split())
a = list(map(int, input().split()))
prefix = [0] * (n + 1)
for i, x in enumerate(a):
    prefix[i + 1] = prefix[i] + x
out = []
for _ in range(q):
    l, r = map(int, input().split())
    out.append(prefix[r] - prefix[l - 1])
print("\\n".join(map(str, out)))
"""


def _prefix_input(rng: random.Random, n: int) -> str:
    values = [rng.randint(-(10**9), 10**9) for _ in range(n)]
    lines = [f"{n} {n}", " ".join(map(str, values))]
    for _ in range(n):
        left = rng.randint(1, n)
        lines.append(f"{left} {rng.randint(left, n)}")
    return "\n".join(lines) + "\n"


def _prefix_oracle(text: str) -> str:
    numbers = _ints(text)
    n, q = numbers[0], numbers[1]
    prefix = [0, *accumulate(numbers[2 : 2 + n])]
    queries = numbers[2 + n :]
    return "\n".join(str(prefix[queries[2 * i + 1]] - prefix[queries[2 * i] - 1]) for i in range(q))


# --- BFS on a big graph ------------------------------------------------------------------

_BFS = """\
from collections import deque

data = open(0).read().split()
n, m = int(data[0]), int(data[1])
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v = int(data[2 + 2 * i]), int(data[3 + 2 * i])
    adj[u].append(v)
    adj[v].append(u)
dist = [-1] * (n + 1)
dist[1] = 0
queue = deque([1])
while queue:
    u = queue.popleft()
    for v in adj[u]:
        if dist[v] < 0:
            dist[v] = dist[u] + 1
            queue.append(v)
print(" ".join(map(str, dist[1:])))
"""


def _bfs_input(rng: random.Random, n: int) -> str:
    edges = [f"{rng.randint(1, n)} {rng.randint(1, n)}" for _ in range(n)]
    return f"{n} {n}\n" + "\n".join(edges) + "\n"


def _bfs_oracle(text: str) -> str:
    numbers = _ints(text)
    n, m = numbers[0], numbers[1]
    neighbours: list[list[int]] = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v = numbers[2 + 2 * i], numbers[3 + 2 * i]
        neighbours[u].append(v)
        neighbours[v].append(u)
    dist = [-1] * (n + 1)
    dist[1] = 0
    queue = deque([1])
    while queue:
        u = queue.popleft()
        for v in neighbours[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                queue.append(v)
    return " ".join(map(str, dist[1:]))


# --- string building ---------------------------------------------------------------------

_RUNS = """\
import sys

for line in sys.stdin:
    s = line.strip()
    if not s:
        continue
    pieces = []
    count = 1
    for i in range(1, len(s) + 1):
        if i < len(s) and s[i] == s[i - 1]:
            count += 1
        else:
            pieces.append(s[i - 1] + str(count))
            count = 1
    print("".join(pieces))
    print(s[::-1].upper())
"""


def _runs_input(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("aab") for _ in range(n)) + "\n"


def _runs_oracle(text: str) -> str:
    s = text.strip()
    pieces: list[str] = []
    start = 0
    for i in range(1, len(s) + 1):
        if i == len(s) or s[i] != s[start]:
            pieces.append(f"{s[start]}{i - start}")
            start = i
    return "".join(pieces) + "\n" + s[::-1].upper()


# --- big-number arithmetic ------------------------------------------------------------------

_BIGNUM = """\
import sys
sys.set_int_max_str_digits(0)

n = int(input())
x = 3**n * 7**(n // 2) + 1
digits = str(x)
print(len(digits))
print(sum(map(int, digits)))
print(x % 1000000007)
"""


def _bignum_input(rng: random.Random, n: int) -> str:
    return f"{n - rng.randint(0, 9)}\n"


def _bignum_oracle(text: str) -> str:
    n = int(text)
    x = 3**n * 7 ** (n // 2) + 1
    # The expected digits need the int-to-str length guard lifted, as the program does.
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        digits = str(x)
    finally:
        sys.set_int_max_str_digits(previous)
    return f"{len(digits)}\n{sum(map(int, digits))}\n{x % 1_000_000_007}"


# --- union-find ---------------------------------------------------------------------------------

_UNION_FIND = """\
import sys

def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    parent = list(range(n + 1))
    size = [1] * (n + 1)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    components = n
    for i in range(q):
        a, b = find(int(data[2 + 2 * i])), find(int(data[3 + 2 * i]))
        if a != b:
            if size[a] < size[b]:
                a, b = b, a
            parent[b] = a
            size[a] += size[b]
            components -= 1
    print(components, max(size[find(v)] for v in range(1, n + 1)))

if __name__ == "__main__":
    main()
"""


def _union_input(rng: random.Random, n: int) -> str:
    pairs = [f"{rng.randint(1, n)} {rng.randint(1, n)}" for _ in range(n // 2)]
    return f"{n} {len(pairs)}\n" + "\n".join(pairs) + "\n"


def _union_oracle(text: str) -> str:
    numbers = _ints(text)
    n, q = numbers[0], numbers[1]
    neighbours: list[list[int]] = [[] for _ in range(n + 1)]
    for i in range(q):
        u, v = numbers[2 + 2 * i], numbers[3 + 2 * i]
        neighbours[u].append(v)
        neighbours[v].append(u)
    seen = [False] * (n + 1)
    components = largest = 0
    for start in range(1, n + 1):
        if seen[start]:
            continue
        components += 1
        seen[start] = True
        stack, size = [start], 0
        while stack:
            u = stack.pop()
            size += 1
            for v in neighbours[u]:
                if not seen[v]:
                    seen[v] = True
                    stack.append(v)
        largest = max(largest, size)
    return f"{components} {largest}"


# --- functional: longest increasing subsequence, running sums --------------------------------

_LIS = """\
class Solution:
    def lengthOfLIS(self, nums: List[int]) -> int:
        tails = []
        for x in nums:
            i = bisect_left(tails, x)
            if i == len(tails):
                tails.append(x)
            else:
                tails[i] = x
        return len(tails)
"""


def _list_input(rng: random.Random, n: int) -> str:
    return "[" + ",".join(str(rng.randint(-(10**6), 10**6)) for _ in range(n)) + "]"


def _lis_oracle(text: str) -> str:
    import bisect  # the oracle mirrors the textbook method, independently written

    tails: list[int] = []
    for x in _ints(text.strip("[]").replace(",", " ")):
        i = bisect.bisect_left(tails, x)
        tails[i : i + 1] = [x]
    return str(len(tails))


_RUNNING = """\
def running_max_sum(nums, k):
    total = 0
    best = -10**18
    out = []
    for x in nums:
        total = max(x, total + x)
        best = max(best, total)
        out.append(best % k)
    return out
"""


def _running_input(rng: random.Random, n: int) -> str:
    return _list_input(rng, n) + f"\n{rng.randint(2, 10**9)}"


def _running_oracle(text: str) -> str:
    values_text, k_text = text.split("\n")
    values = _ints(values_text.strip("[]").replace(",", " "))
    k = int(k_text)
    total, best, out = 0, -(10**18), []
    for x in values:
        total = max(x, total + x)
        best = max(best, total)
        out.append(best % k)
    return "[" + ", ".join(map(str, out)) + "]"


HEAVY_PROGRAMS: tuple[HeavyProgram, ...] = (
    HeavyProgram("sort", _SORT, _sort_input, _sort_oracle),
    HeavyProgram("sort-dedup-wrong", _SORT_DEDUP, _sort_input, _sort_oracle),
    HeavyProgram("prefix-sums", _PREFIX, _prefix_input, _prefix_oracle),
    HeavyProgram("bfs", _BFS, _bfs_input, _bfs_oracle),
    HeavyProgram("string-runs", _RUNS, _runs_input, _runs_oracle),
    HeavyProgram("bignum", _BIGNUM, _bignum_input, _bignum_oracle),
    HeavyProgram("union-find", _UNION_FIND, _union_input, _union_oracle),
    HeavyProgram("lis", _LIS, _list_input, _lis_oracle, ProblemKind.FUNCTIONAL, "lengthOfLIS"),
    HeavyProgram(
        "running-max-sum",
        _RUNNING,
        _running_input,
        _running_oracle,
        ProblemKind.FUNCTIONAL,
        "running_max_sum",
    ),
)
