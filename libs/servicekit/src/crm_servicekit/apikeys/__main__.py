"""Run the API-keys CLI: ``python -m crm_servicekit.apikeys --help``."""

from crm_servicekit.apikeys.cli import main

raise SystemExit(main())
