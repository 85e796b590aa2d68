from hypothesis import given
from hypothesis import strategies as st

from crm_profile.domain.erasure import Erased, erased_token, is_token

KEY = b"test-key"


def test_a_token_keeps_the_type_and_hides_the_value() -> None:
    token = erased_token("email:ada@example.com", KEY)

    assert token.startswith("email:erased:")
    assert "ada" not in token
    assert is_token(token) and not is_token("email:ada@example.com")
    assert erased_token("email:ada@example.com", KEY) == token
    assert erased_token("email:ada@example.com", b"other-key") != token
    assert erased_token("phone:ada@example.com", KEY).split(":")[2] != token.split(":")[2]


def test_text_quoting_an_erased_value_quotes_its_token_instead() -> None:
    erased = Erased.of(["c-1"], ["phone:+491511", "phone:+4915112", "email:a@b.c"], [], KEY)

    text = erased.text("limit:phone would exceed with +4915112 and +491511 (a@b.c)")

    assert "+491511 " not in text and "+4915112 " not in text and "a@b.c" not in text
    assert text.startswith("limit:phone would exceed with erased:")
    assert erased.value("phone", "+4915112") in text
    assert erased.value("email", "x@y.z") == "x@y.z"


def test_tokens_are_never_erased_again() -> None:
    token = erased_token("email:ada@example.com", KEY)

    assert Erased.of(["c"], [token], [], KEY).tokens == {}


@given(st.lists(st.from_regex(r"(email|phone):[a-z0-9@.+]{1,12}", fullmatch=True), max_size=6),
       st.text(max_size=60))
def test_scrubbed_text_holds_no_erased_value_and_scrubbing_twice_changes_nothing(
    identifiers: list[str], text: str,
) -> None:
    erased = Erased.of(["c"], identifiers, [], KEY)
    quoted = " ".join([text, *[i.partition(":")[2] for i in identifiers]])

    once = erased.text(quoted)

    assert erased.text(once) == once
    for value in erased.values():
        assert value not in once.split(" ")
