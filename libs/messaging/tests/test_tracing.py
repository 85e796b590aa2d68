"""Trace context across a Kafka hop: the same trace, a new span."""

from crm_messaging.tracing import from_headers, new_trace, parse_traceparent, to_headers


def test_a_consumed_message_continues_its_trace_in_a_span_of_its_own() -> None:
    sent = new_trace("order-42")
    sent = type(sent)(sent.traceparent, sent.correlation_id, "vendor=abc")

    received = from_headers(to_headers(sent))

    version, trace_id, span_id, flags = received.traceparent.split("-")
    assert parse_traceparent(received.traceparent) == received.traceparent
    assert (version, trace_id, flags) == ("00", sent.trace_id, "01")
    assert span_id != sent.traceparent.split("-")[2]
    assert (received.correlation_id, received.tracestate) == ("order-42", "vendor=abc")


def test_ids_drawn_for_new_traces_and_spans_are_valid_and_distinct() -> None:
    traces = [new_trace() for _ in range(1_000)]
    spans = [t.child() for t in traces]
    for context in traces + spans:
        assert parse_traceparent(context.traceparent) == context.traceparent
    assert len({t.trace_id for t in traces}) == 1_000
    assert len({c.traceparent for c in traces + spans}) == 2_000


def test_headers_without_a_valid_traceparent_start_a_new_trace() -> None:
    received = from_headers([("traceparent", b"00-" + b"0" * 32 + b"-" + b"1" * 16 + b"-01")])
    assert parse_traceparent(received.traceparent) == received.traceparent
    assert received.trace_id != "0" * 32
    assert received.correlation_id
