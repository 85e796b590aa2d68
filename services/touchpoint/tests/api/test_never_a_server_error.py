"""Whatever JSON a client sends, the answer is never a 5xx."""

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from touchpoint_samples import Keys, call_event, headers

# What a JSON client can send: no NaN or infinity (not JSON).
scalars = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                      max_size=4),
    max_leaves=20,
)

FIELDS = ["event_id", "channel", "type", "occurred_at", "identifiers", "traits", "properties"]


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = call_event()
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        event[field] = draw(json_values)
    return event


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=json_values | mutated_events())
async def test_arbitrary_json_never_yields_a_server_error(
    client: httpx.AsyncClient, keys: Keys, body: Any,
) -> None:
    single = await client.post("/v1/touchpoints", json=body, headers=headers(keys.writer))
    batch = await client.post("/v1/touchpoints/batch", json={"events": [body]},
                              headers=headers(keys.writer))

    assert single.status_code < 500, single.text
    assert batch.status_code < 500, batch.text
