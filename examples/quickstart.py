"""Embed the Reflexion graph in a LangChain (LCEL) chain.

With nothing configured it runs on the embedded local model; set REFLEXION_GRAPH_BASE_URL
(and REFLEXION_GRAPH_MODEL / OPENAI_API_KEY) to use any OpenAI-compatible endpoint.
"""

from langchain_core.runnables import RunnableLambda

from reflexion_graph import ReflexionContext, create_reflexion_agent
from reflexion_graph.evaluators import CodeTestEvaluator

agent = create_reflexion_agent(
    evaluator=CodeTestEvaluator("assert add(2, 3) == 5\nassert add(-1, 1) == 0"),
)
chain = (
    RunnableLambda(lambda question: {"task": question})
    | agent.bind(context=ReflexionContext(max_attempts=3))
    | RunnableLambda(lambda result: (result["stop_reason"], result["best"]["answer"]))
)

if __name__ == "__main__":
    stop_reason, answer = chain.invoke("Write a Python function add(a, b) that returns a + b.")
    print(f"stop reason: {stop_reason}\n{answer}")
