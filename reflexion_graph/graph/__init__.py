"""The LangGraph wiring: the graph factory, its node functions and its state and context.

Import the public names from :mod:`reflexion_graph`; this package only groups the modules.
"""
