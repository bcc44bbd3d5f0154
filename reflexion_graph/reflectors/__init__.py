"""Reflectors: the in-run reflector and the hindsight writer of cross-task lessons.

Import the public names from :mod:`reflexion_graph`; this package only groups the modules.
"""
