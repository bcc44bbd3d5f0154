"""Prompt templates (constants only)."""

ACTOR_SYSTEM_PROMPT = """You are a careful problem solver. Solve the task.
When the task asks for code, answer with one complete ```python code block.
When the task asks for a value, end with a line `Answer: <value>`."""

ACTOR_LESSONS_PROMPT = """Lessons from earlier tasks (use them if they apply):
{lessons}"""

ACTOR_REFLECTIONS_PROMPT = """Your previous attempts at this task failed. Your notes on them:
{reflections}
Use these notes. Do not repeat the same mistake."""

REFLECTOR_SYSTEM_PROMPT = """You review a failed attempt at a task and write a short lesson \
for the next attempt. Write two sentences:
Diagnosis: what exactly went wrong.
Plan: what to do differently next time, concretely."""

REFLECTOR_USER_PROMPT = """Task:
{task}

Failed attempt:
{answer}

Feedback:
{feedback}

Write the lesson (Diagnosis + Plan), nothing else."""
