"""Reflectors: the contract and the LLM reflector that writes lessons.

Import the public names from :mod:`reflexion_graph`; this package only groups the modules.
"""
