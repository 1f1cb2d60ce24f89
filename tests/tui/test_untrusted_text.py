"""Escape sequences in the user's files never reach the terminal: a comment in comments.csv carrying an OSC title,
an OSC 8 hyperlink and CSI colour and screen codes is shown as its plain words, in the review app run in a real
pseudo-terminal and in `hcap stats`."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcap_tui.cli import app as hcap_app
from hcap_tui.comments import CommentsFile
from hcap_tui.config import DataPaths
from hcap_tui.tui.app import ReviewApp
from tui.helpers import TEACHER, label, pane, settle, write_jsonl

TITLE = "\x1b]0;PWNED-TITLE\x07"
LINK = "\x1b]8;;https://evil.example/x\x1b\\click here\x1b]8;;\x1b\\"
CSI = "\x1b[2J\x1b[5;31;47mblinking\x1b[0m"
PAYLOADS = (b"PWNED-TITLE", b"evil.example", b"\x1b[5;31;47m", b"\x1b]0;", b"\x1b]8;")


def hostile_folder(data_dir: Path) -> None:
    """comments.csv whose race and horse comments carry escape sequences, labelled by a teacher whose reasoning,
    and a gold line whose reviewer name, carry more."""
    with (data_dir / "comments.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["race_comment", "main_race_comment", "finishing_position", "number_of_runners",
                         "total_distance_beaten"])
        writer.writerow([f"Ran on well {LINK} inside the final furlong", f"A strong race {TITLE}{CSI} all told",
                         "2", "10", "1.5"])
        writer.writerow(["Never travelling and always behind", "Modest affair", "9", "10", "20"])
    first, second = (comment.formatted_input for comment in CommentsFile(data_dir / "comments.csv"))
    assert TITLE in first and LINK in first  # the sequences are in the model input, byte for byte
    paths = DataPaths(data_dir)
    write_jsonl(paths.labeled, [
        {"formatted_input": first} | label(reasoning=f"Says {CSI} plainly {TITLE}") | TEACHER,
        {"formatted_input": second} | label() | {"teacher": "gemini", "model": f"gemini{TITLE}"},
    ])
    gold = {"formatted_input": second} | label() | {"origin": f"gemini{TITLE}", "reviewer": f"bob{LINK}"}
    write_jsonl(paths.gold, [gold | {"reviewed_at": "2025-05-01T10:00:00+00:00"}])


def run_in_a_terminal(data_dir: Path, keys: list[bytes], size: tuple[int, int] = (100, 30)) -> bytes:
    """Run `hcap-tui review` in a pseudo-terminal of `size`, type `keys` a second apart, and return every byte it
    wrote to the terminal (Textual writes to stderr, which is the terminal too)."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(size[0]), LINES=str(size[1]))
    process = subprocess.Popen(
        [sys.executable, "-c", "from hcap_tui.tui.main import main; main()", "review", "--data-dir", str(data_dir)],
        stdin=child, stdout=child, stderr=child, env=env, start_new_session=True, close_fds=True,
    )
    os.close(child)
    output = bytearray()

    def read_until(done: Callable[[], bool], seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not done():
            ready, _, _ = select.select([main], [], [], 0.05)
            if ready:
                try:
                    output.extend(os.read(main, 65536))
                except OSError:
                    return

    try:
        read_until(lambda: b"REASONING" in output, 15)  # started, and drew the first item
        for key in keys:
            os.write(main, key)
            read_until(lambda: False, 0.6)
        os.write(main, b"q")
        read_until(lambda: process.poll() is not None, 10)
        process.wait(timeout=5)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(main)
    return bytes(output)


@pytest.mark.skipif(sys.platform != "linux", reason="drives a Linux pseudo-terminal")
def test_escape_sequences_in_comments_never_reach_the_terminal(data_dir: Path) -> None:
    hostile_folder(data_dir)
    output = run_in_a_terminal(data_dir, [b"\x1b[B" * 40, b"t", b"t", b"d", b"d"])  # read on, other tabs, definitions
    assert b"click here" in output and b"blinking" in output and b"plainly" in output  # the words are shown...
    assert not [payload for payload in PAYLOADS if payload in output]  # ...the sequences are not


async def test_the_review_screen_shows_the_words_of_a_hostile_comment(
    make_app: Callable[[Path], ReviewApp], data_dir: Path
) -> None:
    hostile_folder(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        texts = [str(part.render()) for part in pane(pilot).query("TextPart")]
        await pilot.press("n")
        texts.append(str(pane(pilot).query_one("#result-line").render()))
        title = str(app.screen.query_one("ContentTab").label)
    shown = "\n".join([*texts, title])
    assert "click here" in shown and "blinking" in shown and "A strong race" in shown
    assert "\x1b" not in shown and "PWNED" not in shown and "evil.example" not in shown
    assert "bob" in shown and title == "Teacher · gemini-2.5-flash +1"


def test_hcap_stats_prints_names_from_files_without_their_escape_sequences(data_dir: Path) -> None:
    hostile_folder(data_dir)
    result = CliRunner().invoke(hcap_app, ["stats", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "gemini" in result.output and "\x1b]0;" not in result.output and "PWNED" not in result.output
    as_json = CliRunner().invoke(hcap_app, ["stats", "--json", "--data-dir", str(data_dir)])
    assert json.loads(as_json.output)["gold_by_origin"] == {f"gemini{TITLE}": 1}  # data stays as the file has it
