"""The cycle collector is paused only while big data is built, and always comes back as it was."""

from __future__ import annotations

import gc
import threading

from testdata import label, write_jsonl

from hcap_tui.config import DataPaths
from hcap_tui.gcpause import gc_paused
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record


def test_nested_sections_resume_the_collector_only_when_the_outermost_ends() -> None:
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_section_in_another_thread_keeps_it_paused_until_both_end() -> None:
    inside, release = threading.Event(), threading.Event()

    def worker() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    with gc_paused():
        pass
    assert not gc.isenabled()  # the worker's section is still running
    release.set()
    thread.join()
    assert gc.isenabled()


def test_loading_a_file_leaves_the_collector_as_it_found_it(paths: DataPaths, schema: LabelSchema) -> None:
    write_jsonl(paths.labeled, [flat_record(schema, f"Won | [HORSE]: item {i}", label()) for i in range(3)])
    assert len(Store(paths, schema).labeled().items) == 3 and gc.isenabled()
    gc.disable()
    try:
        Store(paths, schema).labeled()
        assert not gc.isenabled()
    finally:
        gc.enable()
