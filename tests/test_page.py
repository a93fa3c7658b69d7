"""The page `firth serve` serves at `/`, driven in headless Chromium: type a text, read the answer off the page.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them the tests skip
and say how to install them.
"""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
import uvicorn

import firth
from firth.serve import create_app
from firth.text.readers import read_labelled

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="headless Chromium is not installed: "
                                "apt-get install chromium chromium-driver (.ci/run does)")
CORPUS = ["Cats sleep all day.", "Dogs bark at night.", "The market fell sharply.", "Shares rose on profits."]


@contextmanager
def served(app) -> Iterator[str]:
    """The app behind a real uvicorn server on a free loopback port, for as long as the caller needs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def answer(browser, url: str, text: str) -> list[list[str]]:
    """Type `text` into the page at `url`, press its button, and read the result table's rows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.ID, "go").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#result tr"))
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#result tr")]


def test_the_page_shows_the_label_the_model_predicts(browser, tmp_path):
    bbc = read_labelled(Path(__file__).parent / "fixtures" / "bbc")
    model = firth.TextClassifier(features="counts", epochs=3, batch_size=4, val_fraction=0, device="cpu",
                                 progress=False).fit(bbc.texts, bbc.labels)
    model.save(tmp_path / "clf")
    text = "Shares in the <b>bank</b> rose after profits jumped"
    with served(create_app(tmp_path / "clf")) as url:
        rows = answer(browser, url, text)
        label = browser.find_element("id", "label").text
    probabilities = model.predict_proba([text])[0]
    assert label == model.predict([text])[0]
    assert rows[0][0] == label and [r[0] for r in rows] == [str(c) for c in model.classes_[(-probabilities).argsort()]]
    assert abs(float(rows[0][1]) - probabilities.max()) < 1e-4


def test_the_page_shows_an_encoders_nearest_corpus_sentences(browser, tmp_path):
    torch.manual_seed(0)
    encoder = firth.SentenceEncoder(d_model=16, n_layers=1, n_heads=2, d_ff=32)
    encoder.save(tmp_path / "enc")
    with served(create_app(tmp_path / "enc", CORPUS)) as url:
        rows = answer(browser, url, "Shares rose on profits.")
    assert len(rows) == len(CORPUS) and sorted(r[0] for r in rows) == sorted(CORPUS)
    assert rows[0] == ["Shares rose on profits.", "1.0000"]  # the query itself is in the corpus
