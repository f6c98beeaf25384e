"""One router module per resource of ``/api/v1``."""
