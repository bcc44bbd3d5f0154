"""The scripts of the code evaluator's two child processes: standard library only.

Neither child may import this project (the sandbox hides it; the tests' side runs isolated with
``-I``), so each script ships as source text (``reflexion_graph.sandbox.child_script``), with
the plain-data codec (``_plain_data``) pasted in: ``_candidate_server`` holds the answer's code
in the sandbox, ``_trusted_runner`` runs the tests in the trusted process.
"""
