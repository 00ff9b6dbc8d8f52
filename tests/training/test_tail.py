"""LogTail on a real file that grows, breaks lines, gets truncated, rotated, removed and filled with junk."""

from __future__ import annotations

import os

from jupyter_mlapp.training.tail import LogTail, MiB


def append(path, data: bytes | str) -> None:
    with open(path, "ab") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)


def test_appends_are_read_once_and_partial_lines_wait(tmp_path):
    log = tmp_path / "train.log"
    append(log, "a\nb\npart")
    tail = LogTail(log)
    first = tail.read()
    assert first.lines == ["a", "b"] and (first.start, first.end) == (0, 4)
    assert tail.read().lines == []  # nothing new: nothing read again
    append(log, "ial line\nc")
    second = tail.read()
    assert second.lines == ["partial line"] and second.start == 4 and second.end == 17
    append(log, "\n")
    assert tail.read().lines == ["c"]


def test_crlf_carriage_return_progress_bars_and_colours(tmp_path):
    log = tmp_path / "train.log"
    append(log, b"windows\r\n10%\r50%\r100% loss=0.1\n\x1b[1m32/32\x1b[0m \x1b[32m\xe2\x94\x81\x1b[0m - loss: 0.4\n")
    assert LogTail(log).read().lines == ["windows", "100% loss=0.1", "32/32 \u2501 - loss: 0.4"]


def test_truncation_is_noticed_and_the_log_is_read_again(tmp_path):
    log = tmp_path / "train.log"
    append(log, "epoch=1 loss=1\nepoch=2 loss=0.5\n")
    tail = LogTail(log)
    tail.read()
    log.write_text("epoch=1 loss=9\n")  # shorter than before
    again = tail.read()
    assert again.reset and again.lines == ["epoch=1 loss=9"]
    assert any("truncated" in note for note in again.notes)


def test_rewritten_in_place_longer_than_before_is_noticed(tmp_path):
    log = tmp_path / "train.log"
    append(log, "run 1 line 1\n")
    tail = LogTail(log)
    tail.read()
    with open(log, "r+b") as fh:  # copytruncate, then the new run writes more than the old one had
        fh.truncate(0)
        fh.write(b"run 2 line 1\nrun 2 line 2\n")
    again = tail.read()
    assert again.reset and again.lines == ["run 2 line 1", "run 2 line 2"]


def test_rotation_to_a_new_file_is_followed(tmp_path):
    log = tmp_path / "train.log"
    append(log, "old 1\n")
    tail = LogTail(log)
    tail.read()
    os.rename(log, tmp_path / "train.log.1")
    append(log, "new 1\nnew 2\n")
    rotated = tail.read()
    assert rotated.reset and rotated.lines == ["new 1", "new 2"]
    assert any("rotated" in note for note in rotated.notes)


def test_a_log_that_disappears_and_comes_back(tmp_path):
    log = tmp_path / "train.log"
    tail = LogTail(log)
    never = tail.read()
    assert never.missing and "does not exist yet" in never.notes[0]
    append(log, "one\n")
    assert tail.read().lines == ["one"]
    log.unlink()
    gone = tail.read()
    assert gone.missing and "disappeared" in gone.notes[0]
    append(log, "two\n")
    back = tail.read()
    assert not back.missing and back.lines == ["two"]


def test_lines_over_the_limit_are_skipped_with_a_placeholder(tmp_path):
    log = tmp_path / "train.log"
    append(log, b"before\n" + b"x" * (MiB + 10) + b"\nafter\n")
    read = LogTail(log).read()
    assert read.lines[0] == "before" and read.lines[2] == "after"
    assert "was not read" in read.lines[1]
    assert any("longer than 1.0 MB" in note for note in read.notes)


def test_an_endless_line_arriving_in_pieces_is_skipped_without_buffering_it(tmp_path):
    log = tmp_path / "train.log"
    tail = LogTail(log, max_read=64 * 1024, max_line=100 * 1024)
    append(log, "ok 1\n")
    assert tail.read().lines == ["ok 1"]
    for _ in range(5):  # 5 x 60 KB without a newline
        append(log, b"y" * 60_000)
        while tail.read().more:
            pass
        assert len(tail._partial) <= 100 * 1024  # never more than one line's worth held
    append(log, b"\nok 2\n")
    lines = []
    while True:
        read = tail.read()
        lines += read.lines
        if not read.more:
            break
    assert lines[-1] == "ok 2" and "293 KB" in lines[-2]  # 300,001 bytes
    assert tail.offset == log.stat().st_size


def test_binary_garbage_is_decoded_and_noted(tmp_path):
    log = tmp_path / "train.log"
    append(log, b"\x00\x01\xff\xfe garbage\nloss=1\n")
    read = LogTail(log).read()
    assert read.lines[1] == "loss=1" and "\ufffd" in read.lines[0]
    assert "binary data" in read.notes[0]


def test_reads_are_bounded_and_catch_up_in_chunks(tmp_path):
    log = tmp_path / "big.log"
    line = b"step=%08d loss=0.123456 acc=0.9\n"
    with open(log, "wb") as fh:
        fh.write(b"".join(line % i for i in range(300_000)))  # ~10 MB
    tail = LogTail(log, max_read=MiB)
    count, reads = 0, 0
    while True:
        read = tail.read()
        assert read.end - read.start <= MiB + len(line)  # a chunk, plus the partial line held before it
        count += len(read.lines)
        reads += 1
        if not read.more:
            break
    assert count == 300_000 and reads >= 10
    assert read.lines[-1] == "step=00299999 loss=0.123456 acc=0.9"


def test_starting_past_the_end_means_the_log_restarted(tmp_path):
    log = tmp_path / "train.log"
    append(log, "a\n")
    read = LogTail(log, offset=100).read()
    assert read.reset and read.lines == ["a"]
