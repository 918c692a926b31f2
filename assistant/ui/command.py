"""`assistant serve`: argument parsing kept apart from app.py so other commands never import gradio."""

from __future__ import annotations

import argparse
import sys

from assistant.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    settings = Settings()
    serve = subparsers.add_parser(
        "serve", help=f"start the chat UI (default http://{settings.host}:{settings.port})"
    )
    serve.add_argument("--host", default=settings.host, help="address to listen on (non-loopback needs auth)")
    serve.add_argument("--port", type=int, default=settings.port)
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings()
    from assistant.ui.app import auth_for

    try:
        auth_for(args.host, settings)
    except ValueError as exc:
        print(f"assistant serve: {exc}", file=sys.stderr)
        return 2
    from assistant.assistant import Assistant
    from assistant.ui.app import build, launch
    from assistant.ui.memory import keep_memory_flat

    keep_memory_flat()
    bot = Assistant(settings)
    # Before the server answers: the first question is as fast as the rest (the model loads in seconds).
    print(f"warming up: model and store ready in {bot.warm_up():.1f} s", flush=True)
    launch(build(bot, settings), settings, args.host, args.port)
    return 0
