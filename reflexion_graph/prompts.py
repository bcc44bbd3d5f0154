"""Prompt templates (constants only)."""

ACTOR_SYSTEM_PROMPT = """You are a careful problem solver. Solve the task.
When the task asks for code, answer with one complete ```python code block that holds only \
the function(s) asked for and what they need: no tests, asserts, prints or example calls.
When the task asks for a value, end with a line `Answer: <value>`."""

CODE_ACTOR_SYSTEM_PROMPT = """You are a careful Python programmer. Answer with the complete \
function in one ```python code block, and nothing after the block."""

EQUATION_ACTOR_SYSTEM_PROMPT = """You solve number puzzles. Think in a few short lines: try \
combinations of the given numbers and compute each result. Then end with a line \
`Answer: <equation>` that uses only the given numbers."""

FUNCTION_CALL_ACTOR_SYSTEM_PROMPT = """You choose the function call that answers the request. \
Reply with only the call as JSON: {"name": ..., "arguments": {...}}."""

TOOL_ACTOR_SYSTEM_PROMPT = """You are a careful problem solver with tools. Call a tool when you \
need information or an action; read its result; when a tool reports an error, fix the call. \
When you are done, reply without a tool call and end with a line `Answer: <value>`."""

ACTOR_LESSONS_PROMPT = """Rules learnt from failures on earlier, similar tasks (follow them \
when they apply):
{lessons}"""

ACTOR_EVIDENCE_PROMPT = """Checks that attempts at earlier, similar tasks failed. Their expected \
values follow conventions this task may share (a unit, a format, letter case, an edge case):
{examples}"""

ACTOR_REFLECTIONS_PROMPT = """Your previous attempts at this task failed. Your notes on them:
{reflections}
Use these notes. Do not repeat the same mistake."""

ACTOR_RETRY_PROMPT = """That answer failed. Feedback:
{feedback}
{notes}
{closing}"""

ACTOR_RETRY_CLOSING = "Write a corrected answer to the task, in the format the task asks for."

ACTOR_RETRY_FORM_CLOSING = "Now reply with one line only: `Answer: <the value>`."
"""A retry's last line where the answer check found no answer line: a small model asked to
correct the whole answer mostly restates the same sentence; asked for the one line, it writes it."""

ACTOR_RETRY_NOTES_PROMPT = """Your notes on the failures so far:
{reflections}
"""

REFLECTOR_SYSTEM_PROMPT = """You review a failed attempt at a task and write a lesson for \
the next attempt. The feedback shows, for each failed check, the input, the expected result and \
what the attempt returned. Trust the expected results: they follow a rule the task may not \
state, such as letter case, a format, a unit, or an edge case like empty input.
Write exactly three short lines, no code:
Mistake: one failed check, with the exact expected value the feedback shows and what the \
attempt gave instead.
Rule: the convention the expected results follow, stated for any task of this kind: no \
function names, no values from this task.
Fix: what this answer must do differently."""

REFLECTOR_USER_PROMPT = """Task:
{task}

Failed attempt:
{answer}

Feedback:
{feedback}
{earlier}{steps}
Write the lesson (Mistake, Rule, Fix), nothing else."""

REFLECTOR_EARLIER_PROMPT = """
Your earlier lessons on this task did not fix it; find what they missed, do not repeat them:
{lessons}
"""

REFLECTOR_REPEATED_PROMPT = """That lesson repeats one you wrote earlier on this task, but the \
attempt is a new one and failed differently or for a reason the earlier lesson missed. Write a \
new lesson (Mistake, Rule, Fix) about this attempt's failed check, nothing else."""

REFLECTOR_STEP_PROMPT = """
The attempt called the tools {tools}. Start the lesson with a line `Step: <tool name>` naming \
the tool call that went wrong (`Step: answer` if every call was right and only the final reply \
was wrong); then the Rule says how to use that tool.
"""

HINDSIGHT_SYSTEM_PROMPT = """You compare two attempts at the same task: the first failed a \
check, the second passed. Find the convention the passing attempt followed and the failed one \
broke, and state it as one rule for other tasks of the same codebase or API. The check's \
expected result shows the convention: a format, a unit or scale, letter case, an order, or what \
to return for an edge input. State the convention itself, in general words that fit other \
functions; do not mention the attempts, the check or this task's names."""

HINDSIGHT_USER_PROMPT = """Task:
{task}

Failed attempt:
{failed}

The check it failed:
{feedback}

Passing attempt:
{passed}

Write one line, no code and no function names: \
When <kind of value or input>, <the convention, with one example value>."""

JUDGE_PROMPT = """You judge an answer to a task.
Criteria: {criteria}

Task:
{task}

Answer:
{answer}

Reply with JSON only: {{"passed": true or false, "score": a number from 0 to 1, \
"reason": "one short sentence"}}"""

RUBRIC_PROMPT = """You rate an answer to a task on each aspect below, from {low} (poor) to \
{high} (excellent).
Aspects: {aspects}

Task:
{task}

Answer:
{answer}

Reply with JSON only: {{"ratings": {{{example}}}, "feedback": "one short sentence on what to \
improve"}}"""

JSON_REMINDER = "Your reply was not the JSON asked for. Reply with the JSON object only."

SELF_TEST_PROMPT = """Write {count} unit tests for the function this task asks for, as plain \
Python assert statements, one per line, in a ```python block. Use only the function's name \
and literal values; do not write the function itself.

Task:
{task}"""

NO_FEEDBACK = "The answer was judged wrong."
"""What a retry is told when the evaluator gave no feedback."""

NO_FEEDBACK_FOR_REFLECTION = "The attempt was judged wrong."
"""What a reflector or the hindsight writer is told when the evaluator gave no feedback."""

FALLBACK_LESSON = "The previous attempt failed: {feedback}"
"""The lesson kept when the reflector answered with nothing: the verdict's own feedback."""

FOUND_LESSON = "Found by checking the failed answer: {findings}"
"""The lesson of a verdict with findings (verified changes, the answer's form): no model."""

FINDING_STATEMENTS = {
    "output": "Every check passes once `{function}` returns `{code}`, where `result` is the "
    "value it returns now: keep its code and return that instead.",
    "input": "Every check passes once `{function}` starts with `{code}`: put that first and "
    "keep the rest as it is.",
    "guard": "An empty input is valid: every check passes once `{function}` starts with "
    "`{code}`; put that first and keep the rest as it is.",
}
"""A verified finding, by the kind of its change: what to do, with the change as code."""

CHANGE_PROPOSER_PROMPT = """A Python function `{function}` returned wrong values. For each \
failed check, what it returned and what was expected:
{pairs}
Write {count} different Python expressions over `result` (the value it returned) that give \
the expected value in every check above. One expression per line, in one ```python block, \
nothing else."""
"""What the model proposer asks (``reflexion_graph.findings.ModelProposer``)."""

CHANGE_PROPOSER_PAIR = "- `{call}` returned {returned}, expected {expected}"
"""One failed check, as the model proposer shows it."""

FINDING_FEEDBACK = "Verified change: {statement}"
"""The feedback line of a verified finding."""

ANSWER_FORM_FINDINGS = {
    "code": "The answer was code, but this task asks for a value: reply in words, with no "
    "code, and end with the line `Answer: <the value>`.",
    "no_line": "The answer has no line `Answer: <the value>`, so its last line was judged: end "
    "the reply with that line.",
}
"""What is wrong with an answer's form, where the check found no ``Answer:`` line."""

RECALLED_FINDING_FEEDBACK = "Verified change (a convention of earlier tasks): {statement}"
"""The feedback line of a recalled convention that this answer passes every check with."""

RECALLED_EXAMPLE = " (seen on an earlier task: {evidence})"
"""How a recalled lesson shows the check it was learnt from."""

EVIDENCE_LESSON = "seen on an earlier task: {checks}"
"""An evidence lesson: the checks a run failed, joined by ``; ``, written with no model call."""

EVIDENCE_CHECKS = {
    "value": "`{check}` had to return `{expected}`",
    "condition": "`{check}` had to hold",
    "argument": "`{check}` had to be `{expected}`",
    "answer": "{check} had to be `{expected}`",
}
"""One failed check of an evidence lesson, by its kind."""

EVIDENCE_LEFT_OUT = "`{check}` had to be left out"
"""An argument that no parameter takes (a check of kind ``argument`` with no expected value)."""

EVIDENCE_ACTUAL = ", not `{actual}`"
EVIDENCE_ERROR = ", not raise `{error}`"
"""What the attempt gave instead: a value, or an error."""

CHECKED_CONVENTION = "- {convention}"
"""A verified change an evidence lesson keeps, listed with the recalled rules."""

CONVENTIONS = {
    "output": "Return `{code}`, where `result` is the plain value (an earlier `{function}` "
    "passed every check once changed so).",
    "input": "Start the function with `{code}`, for its own parameters (an earlier "
    "`{function}` passed every check once changed so).",
    "guard": "An empty input is valid: return the checks' value for it (an earlier "
    "`{function}` passed every check once it started with `{code}`).",
}
"""A verified change as a convention for later tasks, by the kind of its change."""

TOOL_RULE = "When calling {step}: {rule}"
"""How memory states a rule blamed on a tool (recalled whenever the tool is in play)."""

AGENT_RETRY_PROMPT = "That answer failed.\n{notes}Answer the task again."
"""A retry's prompt when the retry context shows no verdict."""
