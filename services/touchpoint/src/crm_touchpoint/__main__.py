"""``python -m crm_touchpoint [serve|migrate]``."""

import sys

from crm_servicekit.service import run_service
from crm_touchpoint.bootstrap import SERVICE


def main() -> None:
    sys.exit(run_service(SERVICE))


if __name__ == "__main__":
    main()
