"""An existing `create_agent` app gains Reflexion by adding one middleware.

The agent answers, the tests judge the answer, and on failure the agent sees the verdict and
a lesson and tries again. What it learnt is stored in a Chroma memory on disk, and a second
thread recalls it. With nothing configured it runs on the embedded local model; set
REFLEXION_GRAPH_BASE_URL (and REFLEXION_GRAPH_MODEL / OPENAI_API_KEY) for any
OpenAI-compatible endpoint.

    python examples/agent_middleware.py [memory folder]
"""

import sys

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from reflexion_graph import ReflexionMiddleware, create_chat_model
from reflexion_graph.evaluators import CodeTestEvaluator
from reflexion_graph.memory import ChromaLessonMemory

TASK = (
    "In the ship's crew module, greetings follow the house style.\n"
    "Write the Python function `greeting(name)`. It returns the greeting for a crew member.\n"
    "Answer with the whole function in one ```python block."
)
TESTS = "assert greeting('Ana') == 'Ahoy, Ana!'\nassert greeting('Bo') == 'Ahoy, Bo!'"


def main(memory_folder: str) -> None:
    agent = create_agent(
        create_chat_model(),
        system_prompt="You write correct, short Python.",
        middleware=[  # the one line that adds Reflexion:
            ReflexionMiddleware(
                evaluator=CodeTestEvaluator(TESTS, entry_point="greeting"),
                memory=ChromaLessonMemory(path=memory_folder),
            )
        ],
    )
    final = {}
    for mode, event in agent.stream(
        {"messages": [HumanMessage(TASK)]}, stream_mode=["custom", "values"]
    ):
        if mode == "values":
            final = event
            continue
        step = event["reflexion"]
        if step["type"] == "verdict":
            print(f"attempt {step['attempt']} answered:\n{step['answer']}")
            print(f"and failed: {step['evaluation']['feedback']}")
        elif step["type"] == "lesson":
            print(f"lesson: {step['text']}")
        elif step["type"] == "summary":
            print(f"final answer:\n{final['messages'][-1].content}")
            print(f"{step['stop_reason']} after {step['attempts']} attempt(s); "
                  f"lessons saved: {step['lessons_saved']}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".reflexion_graph/agent-memory")
