"""What a newcomer's shell holds: the tests that take the user's path run with this."""

import os


def user_environment() -> dict[str, str]:
    """This process's environment without any ``REFLEXION_GRAPH_*`` setting, tracing off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEXION_GRAPH_")}
    return {**env, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
