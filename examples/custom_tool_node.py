"""A Reflexion agent whose actor uses your own ToolNode (with your own error handling).

Tool calls and tool results are part of each attempt: the evaluator judges them and the
reflector reads them, so a failed tool call becomes a lesson for the next attempt, blamed on
the tool (its ``step``; with a memory, it is recalled whenever that tool is in play).
Runs on the embedded default model, which calls tools.
"""

from langgraph.prebuilt import ToolNode

from reflexion_graph import ReflexionContext, create_chat_model, create_reflexion_agent
from reflexion_graph.evaluators import RegexEvaluator

POPULATION_MILLIONS = {"Paris": "2.1", "Lyon": "0.5"}


def lookup_population(city: str) -> str:
    """Population of a city in millions. City names are capitalised, like 'Paris'."""
    if city not in POPULATION_MILLIONS:
        raise ValueError(f"unknown city {city!r}; known: {sorted(POPULATION_MILLIONS)}")
    return POPULATION_MILLIONS[city]


def explain_tool_error(error: Exception) -> str:
    return f"lookup failed: {error}. Fix the arguments and call the tool again."


tools = ToolNode([lookup_population], handle_tool_errors=explain_tool_error)
model = create_chat_model()
agent = create_reflexion_agent(model, tools=tools, evaluator=RegexEvaluator(r"\b2\.1\b"))

if __name__ == "__main__":
    result = agent.invoke(
        {"task": "How many million people live in paris? Use the lookup_population tool."},
        context=ReflexionContext(max_attempts=2),
    )
    for attempt in result["attempts"]:
        verdict = "passed" if attempt["evaluation"]["passed"] else "failed"
        print(f"attempt {attempt['number']} ({verdict}):\n{attempt['answer']}\n")
    for lesson in result["reflections"]:
        blamed = lesson["metadata"].get("step") or "the final reply"
        print(f"lesson on attempt {lesson['attempt']} (blamed on {blamed}): {lesson['text']}\n")
    print(f"stop reason: {result['stop_reason']}")
