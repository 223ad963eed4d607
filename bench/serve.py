"""Child process: serve billbot or the bare app with uvicorn on a socket the parent opened."""

from __future__ import annotations

import argparse
import socket

import uvicorn
from fastapi import FastAPI

from bench.bare import create_bare_app


def build(name: str) -> FastAPI:
    """The app to serve; billbot reads its settings from the environment the parent set."""
    if name == "bare":
        return create_bare_app()
    from bot.settings import Settings  # only the billbot child pays for these imports
    from web.app import create_app

    return create_app(Settings.from_env())


def main() -> None:
    """`python -m bench.serve {billbot,bare} --fd N`."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("app", choices=["billbot", "bare"])
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    sock = socket.socket(fileno=args.fd)  # family and type come from the inherited descriptor
    config = uvicorn.Config(build(args.app), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
