"""Child-process entry point that serves a GGUF model with llama.cpp's OpenAI-compatible server.

Run by path (``python _llama_server.py --model PATH --port N``) so that the package and its
heavy imports are not loaded. The server stops when stdin closes, so it never outlives the
process that started it.
"""

from __future__ import annotations

import argparse
import sys


def main() -> None:
    """Start the server and block until the parent closes our stdin."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--ctx-size", type=int, default=4096)
    parser.add_argument("--alias", default="")
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx_size * args.parallel
    params.use_jinja = True  # the model's own chat template; enables tool calls
    if args.alias:
        params.model_alias = args.alias
    server = xllamacpp.Server(params)
    sys.stdin.read()  # EOF: the parent exited or asked us to stop
    del server


if __name__ == "__main__":
    main()
