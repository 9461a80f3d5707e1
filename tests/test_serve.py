"""`archlang serve`: the live page, started as a user starts it and driven in headless Chromium.

The server runs as a subprocess (`archlang serve FILE --port 0`) on a copy of a
few specs; Debian's chromium and chromium-driver (installed by `scripts/setup.sh
--dev`) load the page, type into the editor and pick from the file list. The
checks compare what the page shows with what `dsl.check_text` and `summary`
compute for the same text, so nothing here is a copied expectation.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from archlang.compiler.report import summary_rows
from conftest import SPECS
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from archlang import dsl

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900")
WAIT_S = 90  # a generous bound for a loaded 2-core machine; nothing is timed

BROKEN = ("model Small {\n    input x: [3, 32, 32]\n    conv(8, 3) -> relu -> global_avgpool -> flatten\n"
          "    linaer(10)\n}\n")
FIXED = BROKEN.replace("linaer(10)", "linear(10)")


def archlang() -> list[str]:
    script = Path(sys.executable).with_name("archlang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archlang.compiler.cli"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A folder with two specs, a secret beside it and a link inside that points at the secret."""
    base = tmp_path_factory.mktemp("serve")
    folder = base / "specs"
    folder.mkdir()
    for name in ("cats_vs_dogs.arch", "resnet18.arch"):
        shutil.copy(SPECS / name, folder / name)
    (base / "secret.arch").write_text("model Secret {\n    input x: [4]\n    linear(2)\n}\n")
    (folder / "link.arch").symlink_to(base / "secret.arch")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "h.arch").write_text((base / "secret.arch").read_text())
    return folder


@pytest.fixture(scope="module")
def server(served):
    proc = subprocess.Popen([*archlang(), "serve", str(served / "cats_vs_dogs.arch"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], WAIT_S)
    line = proc.stdout.readline() if ready else ""
    if "http://" not in line:
        proc.kill()
        pytest.fail(f"archlang serve did not start: {line!r}{proc.stdout.read() if proc.poll() is not None else ''}")
    url = line[line.index("http://"):].split()[0].split("#")[0]
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="archlang-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, url: str, spec: str = "") -> None:
    driver.get("about:blank")
    driver.get(url + (f"#{spec}" if spec else ""))
    settle(driver)


def settle(driver, state: str = "ok") -> None:
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("return document.body.dataset.state") == state)


def svg(driver) -> str | None:
    return driver.execute_script("const s = document.querySelector('.diagram svg'); return s ? s.outerHTML : null;")


def shown_rows(driver) -> list[list[str]]:
    return driver.execute_script(
        "return [...document.querySelectorAll('table.summary tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent));")


def type_spec(driver, text: str) -> None:
    editor = driver.find_element(By.ID, "editor")
    editor.click()
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(text)
    assert editor.get_property("value") == text


def test_the_page_shows_the_spec_its_table_and_diagram(server, served, browser):
    open_page(browser, server)
    text = (served / "cats_vs_dogs.arch").read_text()
    assert browser.find_element(By.ID, "editor").get_property("value") == text
    graph = dsl.check_text(text, name="cats_vs_dogs.arch", root=served).graph
    assert shown_rows(browser) == [list(r) for r in summary_rows(graph)]
    assert browser.find_element(By.CSS_SELECTOR, "#diagnostics li.clean").text == "no problems"
    picture = svg(browser)
    assert picture and picture.startswith("<svg") and graph.name in picture


def test_a_mistake_shows_its_diagnostic_and_the_fix_redraws_the_diagram(server, served, browser):
    open_page(browser, server, "cats_vs_dogs.arch")
    before = svg(browser)
    type_spec(browser, BROKEN)
    settle(browser, "errors")
    expected = dsl.check_text(BROKEN, name="cats_vs_dogs.arch", root=served).diagnostics
    assert expected
    items = browser.find_elements(By.CSS_SELECTOR, "#diagnostics li")
    shown = [(i.find_element(By.CLASS_NAME, "code").text, i.find_element(By.CLASS_NAME, "where").text,
              i.find_element(By.CLASS_NAME, "message").text) for i in items]
    assert shown == [(d.code, f"{d.span.line}:{d.span.col}", d.message) for d in expected]
    assert "stale" in browser.find_element(By.ID, "models").get_attribute("class")

    type_spec(browser, FIXED)
    settle(browser, "ok")
    after = svg(browser)
    assert after and after != before and "Small" in after
    graph = dsl.check_text(FIXED, name="cats_vs_dogs.arch", root=served).graph
    assert shown_rows(browser) == [list(r) for r in summary_rows(graph)]
    assert browser.find_element(By.CSS_SELECTOR, "#diagnostics li").text == "no problems"


def test_a_diagnostic_click_selects_its_span(server, served, browser):
    open_page(browser, server, "cats_vs_dogs.arch")
    type_spec(browser, BROKEN)
    settle(browser, "errors")
    [d] = [d for d in dsl.check_text(BROKEN, name="x.arch", root=served).diagnostics if d.code]
    browser.find_element(By.CSS_SELECTOR, "#diagnostics li").click()
    chosen = browser.execute_script("const e = document.getElementById('editor');"
                                    "return e.value.slice(e.selectionStart, e.selectionEnd);")
    line = BROKEN.splitlines()[d.span.line - 1]
    end = d.span.end_col if d.span.end_line == d.span.line else len(line) + 1
    assert chosen == line[d.span.col - 1:end - 1] and chosen


def test_the_picker_lists_the_folder_and_opens_another_spec(server, served, browser):
    open_page(browser, server, "cats_vs_dogs.arch")
    picker = Select(browser.find_element(By.ID, "picker"))
    assert [o.get_attribute("value") for o in picker.options] == ["cats_vs_dogs.arch", "resnet18.arch"]
    picker.select_by_value("resnet18.arch")
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_element(By.ID, "editor").get_property("value") == (served / "resnet18.arch").read_text())
    settle(browser)
    WebDriverWait(browser, WAIT_S).until(
        lambda d: d.execute_script("return document.querySelector('section.model').dataset.model") == "ResNet18")
    assert browser.current_url.endswith("#resnet18.arch")
    assert "ResNet18" in svg(browser)


def test_the_page_renders_to_a_screenshot(server, browser):
    open_page(browser, server, "cats_vs_dogs.arch")
    png = browser.get_screenshot_as_png()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    assert 1000 <= width <= 2000 and 600 <= height <= 1200
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # text, a table and a diagram, not a blank or one-colour page
    commonest = max(colours)[0]
    assert commonest < 0.9 * width * height


def fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT_S) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_page_reads_only_specs_inside_the_served_folder(server):
    status, listing = fetch(server + "api/files")
    assert status == 200 and json.loads(listing)["files"] == ["cats_vs_dogs.arch", "resnet18.arch"]
    assert fetch(server + "api/file?path=resnet18.arch")[0] == 200
    for path in ("../secret.arch", "..%2Fsecret.arch", "%2E%2E/secret.arch", "link.arch", "/etc/passwd",
                 str(Path(server).anchor) + "etc/hostname", "../specs/../secret.arch", ".hidden/../../secret.arch",
                 "cats_vs_dogs.arch%00.txt", "nosuch.arch", "."):
        status, body = fetch(server + "api/file?path=" + path)
        assert status == 404, path
        assert "Secret" not in body


def test_the_checker_answers_as_check_does_and_only_to_json_from_this_host(server, served):
    text = BROKEN
    body = json.dumps({"text": text, "path": "cats_vs_dogs.arch"}).encode()
    status, answer = fetch(server + "api/check", body, {"Content-Type": "application/json"})
    assert status == 200
    view = json.loads(answer)
    expected = dsl.check_text(text, name="cats_vs_dogs.arch", root=served).diagnostics
    assert [d["rendered"] for d in view["diagnostics"]] == [d.render() for d in expected]
    assert fetch(server + "api/check", body, {"Content-Type": "text/plain"})[0] == 415
    assert fetch(server + "api/files", None, {"Host": "attacker.example"})[0] == 400


def test_serve_refuses_a_port_in_use(server):
    port = server.rstrip("/").rsplit(":", 1)[1]
    proc = subprocess.run([*archlang(), "serve", "--port", port], capture_output=True, text=True, timeout=WAIT_S,
                          cwd=os.getcwd())
    assert proc.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in proc.stderr


def test_the_server_needs_no_torch(served):
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from compiler import serve\n"
        f"folder = Path({str(served)!r})\n"
        "serve.make_app(serve.served_for(folder / 'cats_vs_dogs.arch'))\n"
        "view = serve.check_view((folder / 'resnet18.arch').read_text(), 'resnet18.arch', folder)\n"
        "assert view['ok'] and view['models'][0]['svg'], view\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=WAIT_S)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_printed_address_answers_at_once(served):
    """A script that reads the address and connects straight away is answered, not refused: the server
    listens before it prints where."""
    proc = subprocess.Popen([*archlang(), "serve", str(served / "cats_vs_dogs.arch"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], WAIT_S)
        line = proc.stdout.readline() if ready else ""
        assert "http://" in line, line
        url = line[line.index("http://"):].split()[0].split("#")[0]
        assert fetch(url + "api/files")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
