"""``{a|b|c}`` sweep expansion, escapes, errors and limits."""

from __future__ import annotations

import pytest

from tui.errors import InputError
from tui.iterate.sweep import (
    CONFIRM_THRESHOLD,
    SweepError,
    Variant,
    count_variants,
    expand,
    has_sweep,
)


def test_one_group_fans_out_with_everything_else_verbatim() -> None:
    sweep = expand("a cat at {dawn|noon|golden hour},  warm\nlight")
    assert [v.prompt for v in sweep.variants] == [
        "a cat at dawn,  warm\nlight",
        "a cat at noon,  warm\nlight",
        "a cat at golden hour,  warm\nlight",
    ]
    assert [v.label for v in sweep.variants] == ["dawn", "noon", "golden hour"]
    assert sweep.groups == (("dawn", "noon", "golden hour"),)
    assert sweep.count == 3
    assert sweep.is_sweep


def test_several_groups_give_the_cartesian_product() -> None:
    sweep = expand("{golden hour|overcast} light, a {red|blue|green} door")
    assert sweep.count == 6
    assert sweep.variants[0] == Variant(
        "golden hour light, a red door", "golden hour · red", ("golden hour", "red")
    )
    assert [v.label for v in sweep.variants] == [
        "golden hour · red",
        "golden hour · blue",
        "golden hour · green",
        "overcast · red",
        "overcast · blue",
        "overcast · green",
    ]
    assert len({v.prompt for v in sweep.variants}) == 6


def test_whitespace_around_alternatives_is_trimmed() -> None:
    sweep = expand("a {  red |\tblue\n} door")
    assert [v.prompt for v in sweep.variants] == ["a red door", "a blue door"]


def test_no_groups_gives_one_unescaped_variant() -> None:
    sweep = expand(r"a sign reading \{open\} \| closed, {not a group}")
    assert sweep.variants == (Variant("a sign reading {open} | closed, {not a group}", "", ()),)
    assert sweep.groups == ()
    assert sweep.count == 1
    assert not sweep.is_sweep


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (r"a \{b|c\}", ["a {b|c}"]),  # escaped braces: no group, "|" outside a group is literal
        (r"{a\|b|c}", ["a|b", "c"]),  # escaped bar inside a group
        (r"{\{x\}|y}", ["{x}", "y"]),  # escaped braces inside a group
        ("{}", ["{}"]),
        ("{json}: {a|b}", ["{json}: a", "{json}: b"]),
        ("stray } brace | bar", ["stray } brace | bar"]),
        (r"a back\slash", [r"a back\slash"]),
        (
            "{ Open | Closed } sign 「{開店|閉店}」",
            [
                "Open sign 「開店」",
                "Open sign 「閉店」",
                "Closed sign 「開店」",
                "Closed sign 「閉店」",
            ],
        ),
    ],
)
def test_escapes_and_literals(prompt: str, expected: list[str]) -> None:
    assert [v.prompt for v in expand(prompt).variants] == expected


@pytest.mark.parametrize(
    ("prompt", "position", "words"),
    [
        ("a {red {dark|light}|blue} car", 7, "nest"),
        ("a {red|blue car", 2, "unclosed"),
        ("ok {a|b} then {c", 14, "unclosed"),
        ("a {red||blue} car", 7, "empty"),
        ("a {|blue} car", 3, "empty"),
        ("a {red| } car", 7, "empty"),
    ],
)
def test_syntax_errors_name_the_position(prompt: str, position: int, words: str) -> None:
    with pytest.raises(SweepError) as caught:
        expand(prompt)
    assert caught.value.position == position
    assert words in str(caught.value)
    assert f"character {position + 1}" in str(caught.value)


def test_sweep_error_is_an_input_error_about_the_prompt() -> None:
    with pytest.raises(InputError) as caught:
        expand("{a|")
    assert caught.value.exit_code == 65
    assert caught.value.for_field("prompt")


def test_over_the_limit_says_the_count() -> None:
    prompt = "{a|b|c|d} {e|f|g|h} {i|j|k|l|m}"
    with pytest.raises(SweepError, match="80") as caught:
        expand(prompt)
    assert caught.value.position is None
    assert expand(prompt, limit=80).count == 80
    with pytest.raises(SweepError, match="4 prompts; the limit is 3"):
        expand("{a|b} {c|d}", limit=3)


@pytest.mark.parametrize(
    ("prompt", "count"),
    [("plain", 1), ("{a|b}", 2), ("{a|b} {c|d|e}", 6), (r"\{a|b\}", 1), ("{x}", 1)],
)
def test_count_variants_matches_expand(prompt: str, count: int) -> None:
    assert count_variants(prompt) == count == expand(prompt).count


def test_count_variants_is_cheap_for_huge_sweeps() -> None:
    prompt = " ".join("{a|b|c|d}" for _ in range(30))
    assert count_variants(prompt) == 4**30
    with pytest.raises(SweepError):
        expand(prompt)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a {red|blue} car", True),
        ("a {red|blue car", True),  # malformed: expand() reports it
        ("a plain car", False),
        ("a {plain} car", False),
        (r"a \{red|blue\} car", False),
    ],
)
def test_has_sweep(prompt: str, expected: bool) -> None:
    assert has_sweep(prompt) is expected


def test_confirm_threshold() -> None:
    assert CONFIRM_THRESHOLD == 8
