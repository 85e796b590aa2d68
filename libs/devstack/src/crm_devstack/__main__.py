"""``python -m crm_devstack run``: the local platform (what ``make run`` calls)."""

from __future__ import annotations

import sys

from crm_devstack.run import main as run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["compose-local"]:
        from crm_devstack.compose_local import main as compose_local

        return compose_local(args[1:])
    if args != ["run"]:
        print("usage: python -m crm_devstack run", file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main())
