import sys

from harness.processes import free_port, start, stop, wait_for_port


def test_a_started_server_is_reached_and_stopped(tmp_path):
    port = free_port()
    proc = start(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=tmp_path
    )
    wait_for_port(port, proc)
    assert proc.poll() is None
    assert stop(proc) is not None
    assert proc.poll() is not None


def test_chromium_renders_a_page(chromium):
    page = chromium.new_page()
    page.set_content("<p id=x>hello</p>")
    assert page.inner_text("#x") == "hello"
    page.close()
