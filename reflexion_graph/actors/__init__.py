"""Actors: the LLM actor, and tool-using or whole-graph actors.

Import the public names from :mod:`reflexion_graph`; this package only groups the modules.
"""
