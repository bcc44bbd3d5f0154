"""Tools the tests give tool-using actors, and scripted tool calls."""

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage


def geocode(city: str) -> str:
    """Latitude and longitude of a city, as 'lat,lon'."""
    return {"Paris": "48.85,2.35", "Oslo": "59.91,10.75"}.get(city, "unknown city")


def current_weather(lat: float, lon: float, units: str = "standard") -> str:
    """The temperature now at a place. units: 'standard' (kelvin) or 'metric' (Celsius)."""
    celsius = 21.0 if lat < 55 else 4.0
    return f"{celsius:.1f}" if units == "metric" else f"{celsius + 273.15:.2f}"


def call(name: str, **args: object) -> AIMessage:
    """A model reply that calls one tool."""
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call-{name}-{args}"}])


def answered(name: str, result: str, error: bool = False, **args: object) -> list[BaseMessage]:
    """A call of tool ``name`` and the tool's answer, as a tool actor's graph records them."""
    calling = call(name, **args)
    status = "error" if error else "success"
    tool_id = calling.tool_calls[0]["id"]
    return [calling, ToolMessage(result, name=name, tool_call_id=tool_id, status=status)]
