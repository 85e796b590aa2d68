import io
import json
import logging
import sys

from crm_messaging.tracing import new_trace, use_trace
from crm_servicekit.logging import JsonFormatter, configure_logging


def _emit(logger_name: str, emit: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("profile"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        emit(logger)  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, "one JSON object per line"
    return json.loads(lines[0])


def test_writes_one_json_object_with_service_level_logger_and_message() -> None:
    line = _emit("crm.test.plain", lambda log: log.info("merged %d profiles", 2))

    assert line["message"] == "merged 2 profiles"
    assert line["level"] == "INFO"
    assert line["logger"] == "crm.test.plain"
    assert line["service"] == "profile"
    assert str(line["ts"]).endswith("+00:00")
    assert line["correlation_id"] is None and line["trace_id"] is None


def test_carries_the_current_trace_and_extra_fields() -> None:
    trace = new_trace("corr-42")
    with use_trace(trace):
        line = _emit("crm.test.trace",
                     lambda log: log.info("appended", extra={"customer_id": "c1", "version": 3}))

    assert line["correlation_id"] == "corr-42"
    assert line["trace_id"] == trace.trace_id
    assert (line["customer_id"], line["version"]) == ("c1", 3)


def test_includes_the_exception_text() -> None:
    def fail(log: logging.Logger) -> None:
        try:
            raise ValueError("bad thing")
        except ValueError:
            log.exception("handler failed")

    line = _emit("crm.test.exc", fail)

    assert line["level"] == "ERROR"
    assert "ValueError: bad thing" in str(line["exception"])
    assert "Traceback" in str(line["exception"])


def test_configure_logging_routes_the_root_logger_to_stdout_as_json() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        configure_logging("campaign", "warning")
        assert root.level == logging.WARNING
        [handler] = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        assert handler.stream is sys.stdout
        assert isinstance(handler.formatter, JsonFormatter)
        assert handler.formatter.service_name == "campaign"
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
