"""``python -m crm_profile [serve|migrate]``."""

import sys

from crm_profile.bootstrap import SERVICE
from crm_servicekit.service import run_service


def main() -> None:
    sys.exit(run_service(SERVICE))


if __name__ == "__main__":
    main()
