"""The Reflexion graph as a sub-graph node of your own LangGraph application.

The parent shares the ``task`` and ``messages`` keys with the sub-graph and reads back
``best`` and ``stop_reason``; its own nodes run before and after.
"""

from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from reflexion_graph import ReflexionContext, create_reflexion_agent
from reflexion_graph.evaluators import CodeTestEvaluator


class AppState(TypedDict, total=False):
    request: str
    task: str
    messages: Annotated[list[AnyMessage], add_messages]
    best: dict[str, Any] | None
    stop_reason: str | None
    report: str


def prepare(state: AppState) -> AppState:
    return {"task": f"Write a Python function {state['request']}."}


def report(state: AppState) -> AppState:
    best = state["best"] or {"number": 0, "evaluation": {"score": 0.0}}
    return {
        "report": f"{state['stop_reason']} after attempt {best['number']} "
        f"(score {best['evaluation']['score']:.2f})"
    }


solver = create_reflexion_agent(
    evaluator=CodeTestEvaluator("assert square(3) == 9\nassert square(-2) == 4"), name="solver"
)
builder = StateGraph(AppState, context_schema=ReflexionContext)
builder.add_node("prepare", prepare)
builder.add_node("solve", solver)  # the compiled Reflexion graph, as a node
builder.add_node("report", report)
builder.add_edge(START, "prepare")
builder.add_edge("prepare", "solve")
builder.add_edge("solve", "report")
builder.add_edge("report", END)
app = builder.compile()

if __name__ == "__main__":
    final = app.invoke(
        {"request": "square(n) that returns n * n"}, context=ReflexionContext(max_attempts=2)
    )
    print(final["report"])
