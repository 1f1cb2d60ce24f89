"""comments.csv: the exact formatted_input strings, CSV edge cases, and uniform, repeatable sampling."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from hcap_tui.comments import CommentsFile, format_input, ordinal
from hcap_tui.errors import DataError

COLUMNS = ["race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten"]
HORSE = "Tracked leaders, kept on well inside final furlong"  # comfortably longer than 20 characters


def row(position: str = "3", runners: str = "12", beaten: str = "1.5", race: str = "", horse: str = HORSE) -> dict:
    """One CSV row in the user's columns."""
    return {
        "race_comment": horse,
        "main_race_comment": race,
        "finishing_position": position,
        "number_of_runners": runners,
        "total_distance_beaten": beaten,
    }


def write_csv(path: Path, rows: list[dict], *, newline: str = "\n", bom: bool = False) -> Path:
    """Write rows as the user's spreadsheet would (quoting only where needed), with the given line ending."""
    columns = list(rows[0]) if rows else COLUMNS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


# The examples the user gave, character for character.
def test_domain_example_winner() -> None:
    assert format_input(
        row("1", "10", "", "Strong race, good pace throughout", "Made all, kept on gamely")
    ) == "Won | [RACE]: Strong race, good pace throughout | [HORSE]: Made all, kept on gamely"


def test_domain_example_placed() -> None:
    assert format_input(
        row("3", "12", "1.25", "Modest affair", "Denied clear run inside final furlong")
    ) == "3rd of 12, involved in finish | [RACE]: Modest affair | [HORSE]: Denied clear run inside final furlong"


def test_domain_example_without_race_comment() -> None:
    # "Never travelling" is 16 characters, under the eligibility minimum, so that example row is
    # only eligible with a longer horse comment; its shape is otherwise exactly the user's.
    assert format_input(row("10", "16", "22", "", "Never travelling")) is None
    assert format_input(row("10", "16", "22", "", "Never travelling, always behind")) == (
        "10th of 16, well beaten | [HORSE]: Never travelling, always behind"
    )


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (14, "14th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (24, "24th"), (101, "101st"), (111, "111th"),
     (112, "112th"), (113, "113th"), (122, "122nd")],
)
def test_ordinals(n: int, expected: str) -> None:
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("position", "runners", "expected"),
    [("11", "14", "11th of 14"), ("12", "14", "12th of 14"), ("13", "14", "13th of 14"),
     ("21", "24", "21st of 24"), ("22", "24", "22nd of 24"), ("23", "24", "23rd of 24"),
     ("111", "120", "111th of 120"), ("2", "5", "2nd of 5"), ("3.0", "12.0", "3rd of 12")],
)
def test_position_prefix(position: str, runners: str, expected: str) -> None:
    assert format_input(row(position, runners, "")) == f"{expected} | [HORSE]: {HORSE}"


@pytest.mark.parametrize(
    ("beaten", "category"),
    [("0", "involved in finish"), ("0.1", "involved in finish"), ("3", "involved in finish"),
     ("3.0", "involved in finish"), ("3.01", "competitive"), ("5", "competitive"), ("5.25", "fairly beaten"),
     ("8", "fairly beaten"), ("8.01", "well beaten"), ("30", "well beaten"), (" 4 ", "competitive")],
)
def test_distance_categories_and_boundaries(beaten: str, category: str) -> None:
    assert format_input(row("4", "9", beaten)) == f"4th of 9, {category} | [HORSE]: {HORSE}"


@pytest.mark.parametrize("beaten", ["", "   ", "nk", "shd", "dist", "nan", "inf"])
def test_unknown_distance_has_no_category(beaten: str) -> None:
    assert format_input(row("4", "9", beaten)) == f"4th of 9 | [HORSE]: {HORSE}"


def test_winner_never_gets_a_category() -> None:
    assert format_input(row("1", "9", "0")) == f"Won | [HORSE]: {HORSE}"


@pytest.mark.parametrize("race", ["", "   "])
def test_missing_race_comment_is_left_out(race: str) -> None:
    assert format_input(row("5", "9", "4.5", race)) == f"5th of 9, competitive | [HORSE]: {HORSE}"


@pytest.mark.parametrize(
    "bad",
    [
        {"race_comment": "x" * 20},  # must be longer than 20 characters
        {"race_comment": ""},
        {"finishing_position": "PU"},
        {"finishing_position": "F"},
        {"finishing_position": "UR"},
        {"finishing_position": ""},
        {"finishing_position": "0"},
        {"finishing_position": "2.5"},
        {"number_of_runners": ""},
        {"number_of_runners": "  "},
    ],
)
def test_ineligible_rows(bad: dict) -> None:
    assert format_input(row() | bad) is None


def test_21_character_horse_comment_is_eligible() -> None:
    assert format_input(row(horse="y" * 21)) == "3rd of 12, involved in finish | [HORSE]: " + "y" * 21


def test_csv_with_bom_crlf_quotes_newlines_and_extra_columns(tmp_path: Path) -> None:
    rows = [
        {"horse_name": "Sea Breeze",
         **row("1", "8", "", 'A "steady" pace, then a sprint', 'Made all,\nkept on "well"')},
        {"horse_name": "", **row("2", "8", "0.5", "", HORSE)},
        {"horse_name": "Pulled Up", **row("PU", "8", "", "", HORSE)},
    ]
    path = write_csv(tmp_path / "comments.csv", rows, newline="\r\n", bom=True)
    comments = list(CommentsFile(path))
    assert [c.formatted_input for c in comments] == [
        'Won | [RACE]: A "steady" pace, then a sprint | [HORSE]: Made all,\nkept on "well"',
        f"2nd of 8, involved in finish | [HORSE]: {HORSE}",
    ]
    assert comments[0].metadata == {"horse_name": "Sea Breeze"}
    assert comments[1].metadata == {}  # empty cells are not carried
    assert [c.row for c in comments] == [2, 4]  # the first row spans lines 2 and 3
    assert CommentsFile(path).header()[0] == "horse_name"
    counts = CommentsFile(path).count()
    assert (counts.rows, counts.eligible) == (3, 2)


def test_iteration_matches_the_csv_module(tmp_path: Path) -> None:
    rows = []
    for i in range(60):
        horse = f"Runner {i}, " + ("hampered,\r\n\"denied\" a run" if i % 3 == 0 else "kept on at one pace")
        rows.append({"id": str(i), **row(str(i % 9 + 1), "9", str(i % 11), f"Race {i // 9}\nsecond line", horse)})
    path = write_csv(tmp_path / "comments.csv", rows)
    with path.open(newline="", encoding="utf-8") as handle:
        expected = [format_input(r) for r in csv.DictReader(handle)]
    assert [c.formatted_input for c in CommentsFile(path)] == [e for e in expected if e is not None]


def test_missing_columns_are_named_in_one_error(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text("race_comment,finishing_position,number_of_runners\nx,1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        list(CommentsFile(path))
    message = str(caught.value)
    assert message == (
        f"{path} is missing columns main_race_comment, total_distance_beaten: "
        "hcap needs them plus race_comment, finishing_position, number_of_runners in the header row"
    )
    for column in ("race_comment", "main_race_comment", "finishing_position", "number_of_runners",
                   "total_distance_beaten"):
        assert len(re.findall(rf"\b{column}\b", message)) == 1  # each required column named once


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (",".join(COLUMNS).encode() + b'\n"' + b"x" * 30 + b",,1,2,\n1,2,3,4,5\n", "line 2 opens a quoted cell"),
        ("caf\xe9,".encode("latin-1") + ",".join(COLUMNS).encode() + b"\n", r"line 1 \(the header row\) is not UTF-8"),
    ],
)
def test_unreadable_csv_is_one_clear_error(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "comments.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words):
        list(CommentsFile(path))


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        CommentsFile(tmp_path / "nope.csv").random_sample(3, seed=1)


def test_header_only_file_has_nothing_to_sample(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "comments.csv", [])
    assert list(CommentsFile(path)) == []
    with pytest.raises(DataError, match="comments.csv has 0 eligible comments: it has no rows below its header"):
        CommentsFile(path).random_sample(5, seed=1)


@pytest.fixture
def field_csv(tmp_path: Path) -> Path:
    """200 eligible rows with ineligible ones mixed in."""
    rows = []
    for i in range(240):
        position = "PU" if i % 6 == 5 else str(i % 12 + 1)
        rows.append({"id": str(i), **row(position, "12", str(i % 10), f"Race {i}", f"{HORSE} #{i}")})
    return write_csv(tmp_path / "comments.csv", rows)


def inputs(comments: list) -> list[str]:
    return [c.formatted_input for c in comments]


def test_sample_is_deterministic_for_a_seed(field_csv: Path) -> None:
    comments = CommentsFile(field_csv)
    first = comments.random_sample(10, seed=42)
    assert len(first) == 10
    assert comments.random_sample(10, seed=42) == first
    assert inputs(comments.random_sample(10, seed=43)) != inputs(first)


def test_sample_never_repeats_and_honours_exclusion(field_csv: Path) -> None:
    comments = CommentsFile(field_csv)
    everything = inputs(list(comments))
    excluded = set(everything[::2])
    drawn = inputs(comments.random_sample(50, seed=3, exclude=excluded))
    assert len(drawn) == len(set(drawn)) == 50
    assert not excluded & set(drawn)
    assert set(inputs(comments.random_sample(50, seed=3, exclude=list(excluded)))) == set(drawn)


def test_asking_for_more_than_exist_returns_all_of_them(field_csv: Path) -> None:
    comments = CommentsFile(field_csv)
    everything = inputs(list(comments))
    assert len(everything) == 200
    drawn = inputs(comments.random_sample(10_000, seed=1))
    assert sorted(drawn) == sorted(everything)
    excluded = set(everything[:150])
    assert sorted(inputs(comments.random_sample(10_000, seed=1, exclude=excluded))) == sorted(everything[150:])
    assert comments.random_sample(0, seed=1) == []


def test_duplicate_rows_are_drawn_once(tmp_path: Path) -> None:
    rows = [row(str(i % 4 + 1), "8", "2") for i in range(12)]  # only four distinct inputs
    drawn = inputs(CommentsFile(write_csv(tmp_path / "comments.csv", rows)).random_sample(10, seed=5))
    assert len(drawn) == len(set(drawn)) == 4


def test_sampling_and_iteration_agree_with_quoted_newlines(tmp_path: Path) -> None:
    rows = [
        {"id": str(i), **row(str(i % 5 + 1), "7", "", 'Pace\nsteady,\r\n"honest"', f"Line one {i}\nline two, kept on")}
        for i in range(30)
    ]
    comments = CommentsFile(write_csv(tmp_path / "comments.csv", rows))
    by_input = {c.formatted_input: c for c in comments}
    drawn = comments.random_sample(100, seed=9)
    assert len(drawn) == 30
    assert all(by_input[c.formatted_input] == c for c in drawn)


def test_sample_is_uniform_over_eligible_rows(tmp_path: Path) -> None:
    """Every eligible row is drawn about equally often over a fixed set of seeds, wherever it sits in the file."""
    rows = []
    for i in range(16):
        rows.append({"id": str(i), **row(str(i + 1), "16", "2", f"Race {i}", f"{HORSE} #{i}")})
        if i % 4 == 0:
            rows.append({"id": f"pu{i}", **row("PU", "16", "", "", f"{HORSE} pulled up #{i}")})
    comments = CommentsFile(write_csv(tmp_path / "comments.csv", rows))
    seeds, count, eligible = range(3000), 4, 16
    tally = Counter(c.formatted_input for seed in seeds for c in comments.random_sample(count, seed=seed))
    assert len(tally) == eligible
    expected = len(seeds) * count / eligible  # 750 draws each
    chi_square = sum((observed - expected) ** 2 / expected for observed in tally.values())
    assert chi_square < 45  # 15 degrees of freedom: p < 0.0001 only if sampling were biased
    assert all(abs(observed - expected) < 0.15 * expected for observed in tally.values())


@pytest.mark.parametrize(
    ("position", "runners", "beaten", "reason"),
    [
        ("3", "0", "1", "number_of_runners '0' is not a whole number of runners"),
        ("2", "abc", "1", "number_of_runners 'abc' is not a whole number of runners"),
        ("5", "-3", "1", "number_of_runners '-3' is not a whole number of runners"),
        ("12", "2.5", "", "number_of_runners '2.5' is not a whole number of runners"),
        ("9", "8", "4", "finishing_position 9 is behind the last of 8 runners"),
        ("4", "9", "-2", "total_distance_beaten '-2' is negative"),
        ("1", "9", "-0.5", "total_distance_beaten '-0.5' is negative"),
    ],
)
def test_rows_with_impossible_numbers_are_not_eligible_and_are_listed(
    tmp_path: Path, position: str, runners: str, beaten: str, reason: str
) -> None:
    assert format_input(row(position, runners, beaten)) is None
    path = write_csv(tmp_path / "comments.csv", [row("2", "9", "1"), row(position, runners, beaten)])
    counts = CommentsFile(path).count()
    assert (counts.rows, counts.eligible) == (2, 1)
    assert [str(p) for p in counts.problems] == [f"comments.csv line 3: {reason}; skipped"]
    assert len(CommentsFile(path).random_sample(10, seed=1)) == 1


def test_rows_with_the_wrong_number_of_cells_are_not_eligible_and_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    good = f'"{HORSE}",Fair gallop,2,9,1\n'
    # A newline typed into an unquoted cell splits one row into two, neither with the header's five cells.
    split = "Tracked leaders, every chance,Strong pace\n12,2.5,3\n"
    path.write_text(",".join(COLUMNS) + "\n" + good + split.replace(", every", " every") + good.replace("2,9", "3,9"),
                    encoding="utf-8")
    counts = CommentsFile(path).count()
    assert (counts.rows, counts.eligible) == (4, 2)
    assert [str(p) for p in counts.problems] == [
        "comments.csv line 3: 2 cells where the header has 5 (a line break or comma outside quotes?); skipped",
        "comments.csv line 4: 3 cells where the header has 5 (a line break or comma outside quotes?); skipped",
    ]
    assert [c.formatted_input.split(" |")[0] for c in CommentsFile(path)] == [
        "2nd of 9, involved in finish", "3rd of 9, involved in finish"
    ]


def test_a_repeated_column_name_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text(",".join([*COLUMNS, "horse_name", "finishing_position"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        CommentsFile(path).random_sample(3, seed=1)
    assert str(caught.value) == (
        f"{path} has the column finishing_position more than once in its header row: rename or remove the repeats"
    )


def test_a_file_with_no_eligible_row_says_so(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "comments.csv", [row("PU", "9", ""), row(horse="short")])
    with pytest.raises(DataError, match="comments.csv has 0 eligible comments: no row has a horse comment over 20"):
        CommentsFile(path).random_sample(3, seed=1)
    path = write_csv(tmp_path / "comments.csv", [row()])
    assert CommentsFile(path).random_sample(3, seed=1, exclude={format_input(row())}) == []  # all excluded: no error


def test_a_row_that_is_not_utf8_is_skipped_the_same_way_whatever_the_seed(tmp_path: Path) -> None:
    rows = [row(str(i % 9 + 1), "9", "1", f"Race {i}", f"{HORSE} #{i}") for i in range(40)]
    bad_line = 18  # rows[16]: the header is line 1
    path = write_csv(tmp_path / "comments.csv", rows)
    path.write_bytes(path.read_bytes().replace(b"Race 16,", "Caf\xe9 16,".encode("latin-1")))
    # The same file with that row merely ineligible instead: every seed must draw exactly what it draws.
    rows[16] = row("PU", "9", "1", "Race 16", f"{HORSE} #16")
    pulled_up = write_csv(tmp_path / "pulled_up.csv", rows)
    for seed in range(40):
        drawn = CommentsFile(path).random_sample(5, seed=seed)
        assert inputs(drawn) == inputs(CommentsFile(pulled_up).random_sample(5, seed=seed)), seed
    assert len(list(CommentsFile(path))) == 39
    assert [str(p) for p in CommentsFile(path).count().problems] == [
        f"comments.csv line {bad_line}: not UTF-8 text (re-save the file as UTF-8); skipped"
    ]


def test_a_quoted_cell_over_128_kib_is_read(tmp_path: Path) -> None:
    long_race = 'A "truly" run race, strong pace, ' * 6000  # about 200 KiB, with quotes and commas inside
    path = write_csv(tmp_path / "comments.csv", [row(race=long_race), row("2", "9", "1")])
    assert len(long_race) > 128 * 1024
    comments = list(CommentsFile(path))
    assert len(comments) == 2 and comments[0].formatted_input.endswith(f"[RACE]: {long_race} | [HORSE]: {HORSE}")
    assert CommentsFile(path).count().problems == []
    assert len(CommentsFile(path).random_sample(2, seed=3)) == 2


def test_counting_says_of_every_row_what_a_full_read_says(tmp_path: Path) -> None:
    rows = [row(str(i % 9 + 1), "9", str(i % 11 - 1), f"Race {i}, run at a fair gallop", f"{HORSE} #{i}")
            for i in range(30)]
    rows[3] = row("PU", "9", "")  # not eligible, not a problem
    rows[5] = row(horse="Too short")
    rows[7] = row("9", "8", "4")  # behind the last runner
    rows[9] = row("2", "many", "1")
    rows[11] = row(race="A race comment\nover two lines, \"quoted\" words")
    path = write_csv(tmp_path / "comments.csv", rows, newline="\r\n", bom=True)
    data = path.read_bytes().replace(b"Race 20,", "Caf\xe9 20,".encode("latin-1"))
    data = data.replace(b"Race 22, run", b'Race 22 "run" at, a,')  # a stray quote and commas outside quotes
    path.write_bytes(data + b"\r\n\r\n" + b"short,row\r\n")
    entries = list(CommentsFile(path).scan())
    counts = CommentsFile(path).count()
    assert counts.rows == len(entries) == 31
    assert counts.eligible == sum(1 for e in entries if e is not None and not hasattr(e, "reason")) == 23
    assert [str(p) for p in counts.problems] == [str(e) for e in entries if hasattr(e, "reason")]
    assert [p.line for p in counts.problems] == [2, 9, 11, 23, 25, 35]


def test_a_large_file_is_counted_in_a_process_of_its_own_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hcap_tui import comments

    path = write_csv(tmp_path / "comments.csv", [row(str(i % 9 + 1), "9", "1") for i in range(50)] + [row("9", "8")])
    expected = CommentsFile(path).count()
    broken = write_csv(tmp_path / "broken.csv", [row()])
    broken.write_text(broken.read_text(encoding="utf-8") + '"an open quote,\n', encoding="utf-8")
    monkeypatch.setattr(comments, "COUNT_ASIDE_FROM", 1)  # these small files count as large
    monkeypatch.setattr(comments.os, "cpu_count", lambda: 2)
    counting, failing, unwanted = (CommentsFile(p).count_aside() for p in (path, broken, path))
    monkeypatch.setattr(CommentsFile, "count", lambda self: pytest.fail("counted here, not in its own process"))
    assert counting.result() == expected and (expected.rows, expected.eligible, len(expected.problems)) == (51, 50, 1)
    with pytest.raises(DataError, match="broken.csv line 3 opens a quoted cell that is never closed"):
        failing.result()
    assert unwanted.counter is not None
    unwanted.stop()  # a command that fails before it wants the counts ends the process
    assert unwanted.counter.poll() is not None
