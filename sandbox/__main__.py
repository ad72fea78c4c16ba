"""python -m sandbox [--port P] [--host H] [--fixture FILE]"""

from __future__ import annotations

import argparse

from sandbox.server import read_fixture, serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="本地钉钉 / 企业微信服务器模拟器")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--fixture", help="JSON file with the corps, apps and users (default: the demo's)")
    args = parser.parse_args(argv)
    print(f"zhibu sandbox: http://{args.host}:{args.port}/  (chat page at /, control API under /_sandbox)")
    serve_forever(args.host, args.port, read_fixture(args.fixture))


if __name__ == "__main__":
    main()
