"""The gallery page in a real headless Chromium against the running API and worker: it loads with no
console error, lists the models, and a layer grid fills in with real images."""

from __future__ import annotations

import os
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

LOADED_TILES = """return [...document.querySelectorAll('.tiles img')]
    .filter(image => image.complete && image.naturalWidth === arguments[0]).length"""


@pytest.fixture(scope="module")
def browser():
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("chromium and chromium-driver are not installed; .ci/run installs them (apt-get)")
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,820"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chromium = webdriver.Chrome(service=Service(driver), options=options)
    yield chromium
    chromium.quit()


def test_the_gallery_lists_models_and_fills_a_layer_grid_with_real_images(api_process, worker_process, browser):
    size, shown = 32, 4
    browser.get(f"{api_process.base_url}/?model=vgg16-hed&layer=block3_conv1&size={size}&steps=12&per_page={shown}")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
    models = [option.get_attribute("value") for option in browser.find_elements(By.CSS_SELECTOR, "#model option")]
    assert "vgg16-hed" in models
    assert browser.find_element(By.ID, "layer").get_attribute("value") == "block3_conv1"
    WebDriverWait(browser, 180).until(lambda b: b.execute_script(LOADED_TILES, size) == shown)
    captions = [caption.text for caption in browser.find_elements(By.CSS_SELECTOR, "figcaption")]
    assert [caption.split()[0] for caption in captions] == ["#0", "#1", "#2", "#3"]
    assert all(float(caption.split()[1]) > 0 for caption in captions if caption.split()[1] != "dead")

    browser.find_elements(By.CSS_SELECTOR, ".tiles figure")[1].click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "details").is_displayed())
    assert "filter 1" in browser.find_element(By.ID, "details-title").text
    assert browser.find_elements(By.CSS_SELECTOR, "#details-curve polyline")
    if screenshot := os.environ.get("FILTERSCOPE_GALLERY_SCREENSHOT"):
        browser.save_screenshot(screenshot)
    problems = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not problems, problems


def test_an_img_tag_in_a_page_opened_from_disk_shows_the_units_picture(api_process, worker_process, browser, tmp_path):
    unit = f"{api_process.base_url}/v1/models/vgg16-hed/layers/block4_conv2/filters/7.png?image_size=32&steps=12&seed=601"
    page = tmp_path / "dashboard.html"
    page.write_text(f'<!doctype html><html><body><img id="unit" src="{unit}"></body></html>')
    browser.get(page.as_uri())
    WebDriverWait(browser, 180).until(
        lambda b: b.execute_script("const i = document.getElementById('unit'); return i.complete && i.naturalWidth") == 32)
