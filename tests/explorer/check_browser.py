"""The explorer in a real browser (Debian's chromium, headless, driven by chromium-driver through
python3-selenium): pick an example and two methods and check the shown completeness delta against
`integrad explain`; move a tabular slider and see the prediction change; a feature name holding
HTML stays text; two browsers explaining at once get their own answers. Saves screenshots into
BUILD_DIR (CI keeps them). Exits 77 (skipped) when chromium, its driver or selenium is missing.
Usage: check_browser.py BUILD_DIR"""
import os
import shutil
import sys
import tempfile
import threading

import numpy as np

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("skipped: python3-selenium is not installed")
    sys.exit(77)

import harness
from harness import Server, integrad, model

browser = shutil.which("chromium") or shutil.which("chromium-browser")
driver_bin = shutil.which("chromedriver")
if not browser or not driver_bin:
    print("skipped: chromium or chromium-driver is not installed")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="explorer-browser-")
downloads = os.path.join(work, "downloads")
os.makedirs(downloads)


def open_browser():
    o = webdriver.ChromeOptions()
    o.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,1300",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        o.add_argument(flag)
    o.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=work)}")
    o.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(driver_bin), options=o)
    d.set_page_load_timeout(60)
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return d


def screenshot(d, name):
    """The whole page (the window grown to its height) as BUILD_DIR/NAME."""
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1500, min(max(height + 200, 900), 4000))
    d.execute_script("window.scrollTo(0, 0)")
    d.save_screenshot(os.path.join(harness.BUILD, name))
    d.set_window_size(1500, 1300)


def wait(d, condition, seconds=120):
    return WebDriverWait(d, seconds, poll_frequency=0.1).until(lambda _: condition())


def load(d, url):
    d.get(url)
    wait(d, lambda: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")


def explain_in_page(d, example, methods):
    """Clicks an example and the methods, then Explain; returns {method: shown delta element}."""
    d.find_element(By.CSS_SELECTOR, f'.example[data-index="{example}"]').click()
    for m in methods:
        box = d.find_element(By.ID, f"m-{m}")
        if not box.is_selected():
            box.click()
    d.find_element(By.ID, "explain").click()
    wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#results .map")) == len(methods) or d.find_element(By.ID, "error").text)
    assert not d.find_element(By.ID, "error").text, d.find_element(By.ID, "error").text
    return {m: d.find_element(By.CSS_SELECTOR, f'#results .map[data-method="{m}"][data-model="0"]') for m in methods}


def cli_delta(x, model_file="cnn.safetensors", *options):
    np.save(os.path.join(work, "x.npy"), x)
    integrad("explain", model(model_file), os.path.join(work, "x.npy"), "-o", os.path.join(work, "a.npy"), "--deltas", os.path.join(work, "d.npy"),
             "--method", "ig", "-q", *options)
    return float(np.load(os.path.join(work, "d.npy"))[0])


integrad("dataset", "--data", "synthetic-patches", "--split", "test", "--limit", 40, "-o", os.path.join(work, "patches.npy"),
         "--labels-out", os.path.join(work, "labels.npy"))
patches, labels = np.load(os.path.join(work, "patches.npy")), np.load(os.path.join(work, "labels.npy")).tolist()

with Server(model("cnn.safetensors"), model("cnn2.safetensors"), "--data", "synthetic-patches", "--limit", 40) as srv:
    d = open_browser()
    try:
        load(d, srv.url)
        # The filters: true class 3 shows exactly the examples labelled 3.
        from selenium.webdriver.support.ui import Select
        Select(d.find_element(By.ID, "filter-true")).select_by_value("3")
        shown = sorted(int(e.get_attribute("data-index")) for e in d.find_elements(By.CSS_SELECTOR, "#examples .example"))
        assert shown == [i for i, label in enumerate(labels) if label == 3], f"filter true = 3 shows {shown}"
        Select(d.find_element(By.ID, "filter-true")).select_by_value("")
        print(f"page: the true-class filter shows examples {shown}, those labelled 3")
        cards = explain_in_page(d, 6, ["ig", "saliency"])
        shown = cards["ig"].find_element(By.CLASS_NAME, "delta")
        value, text = float(shown.get_attribute("data-value")), shown.text
        expected = cli_delta(patches[6:7])
        assert abs(value - expected) <= 1e-6 * max(1.0, abs(expected)), f"the page shows delta {value}, the CLI {expected}"
        assert abs(float(text) - expected) <= 1e-3 * max(abs(expected), 1e-12) + 1e-12, f"the page's text {text!r} vs the CLI's {expected}"
        print(f"page: example 6, ig and saliency; delta shown {text} (the CLI's {expected:.6g})")
        # Save .npy and Save PNG: the saved map is the CLI's attributions, the PNG a picture of it.
        cards["ig"].find_element(By.XPATH, ".//button[text()='Save .npy']").click()
        cards["ig"].find_element(By.XPATH, ".//button[text()='Save PNG']").click()
        saved = lambda ext: [f for f in os.listdir(downloads) if f.endswith(ext)]
        wait(d, lambda: saved(".npy") and saved(".png"), 30)
        npy = np.load(os.path.join(downloads, saved(".npy")[0]))
        assert np.array_equal(npy, np.load(os.path.join(work, "a.npy"))), "the saved .npy is not the CLI's attributions"
        with open(os.path.join(downloads, saved(".png")[0]), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", "the saved PNG is not a PNG"
        print(f"page: saved {saved('.npy')[0]} (the CLI's attributions, bit for bit) and {saved('.png')[0]}")
        assert cards["saliency"].find_elements(By.TAG_NAME, "canvas"), "no saliency map drawn"
        # The view's URL restores it: a fresh page at that URL shows the same delta.
        url = d.current_url
        assert "#" in url
        load(d, url)
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, '#results .map[data-method="ig"] .delta'))
        again = float(d.find_element(By.CSS_SELECTOR, '#results .map[data-method="ig"] .delta').get_attribute("data-value"))
        assert again == value, f"the restored view shows delta {again}, not {value}"
        print("page: the URL restored the view (same example, methods and delta)")
        # Compare two models: the second row is the second model's.
        Select(d.find_element(By.ID, "model-b")).select_by_value("1")
        d.find_element(By.ID, "explain").click()
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, '#results .map[data-model="1"][data-method="ig"] .delta'))
        second = float(d.find_element(By.CSS_SELECTOR, '#results .map[data-model="1"][data-method="ig"] .delta').get_attribute("data-value"))
        assert abs(second - cli_delta(patches[6:7], "cnn2.safetensors")) <= 1e-6 * max(1.0, abs(second))
        print("page: the compared model's delta is the CLI's for that model")
        screenshot(d, "explorer-screenshot.png")
        # IG's convergence and the axioms render.
        d.find_element(By.ID, "convergence").click()
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "#convergence-plot polyline"))
        d.find_element(By.ID, "axioms").click()
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "table.axioms td.pass"))
        screenshot(d, "explorer-screenshot-axioms.png")
        print("page: convergence plot and axiom table shown")
        # Paint a bright 3x3 patch elsewhere: the prediction moves; Reset brings it back.
        from selenium.webdriver.common.action_chains import ActionChains
        Select(d.find_element(By.ID, "brush-size")).select_by_value("3")
        version = lambda: int(d.find_element(By.ID, "predictions").get_attribute("data-version") or 0)
        probability = lambda: d.find_element(By.ID, "prediction-0").get_attribute("data-probability")
        before, v = probability(), version()
        canvas = d.find_element(By.ID, "paint")
        d.execute_script("arguments[0].scrollIntoView()", canvas)
        ActionChains(d).move_to_element_with_offset(canvas, 60, -60).click_and_hold().move_by_offset(10, 0).release().perform()
        wait(d, lambda: version() > v)
        assert probability() != before, "painting did not change the prediction"
        print(f"page: painting a patch changed p(predicted) {float(before):.4f} -> {float(probability()):.4f}")
    finally:
        d.quit()

    # Two browsers explaining at once get the right answers.
    results = {}

    def explore(example):
        b = open_browser()
        try:
            load(b, srv.url)
            card = explain_in_page(b, example, ["ig"])["ig"]
            results[example] = float(card.find_element(By.CLASS_NAME, "delta").get_attribute("data-value"))
        finally:
            b.quit()

    threads = [threading.Thread(target=explore, args=(e,)) for e in (11, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in (11, 12):
        expected = cli_delta(patches[e:e + 1])
        assert abs(results[e] - expected) <= 1e-6 * max(1.0, abs(expected)), f"browser on example {e}: {results[e]} vs the CLI's {expected}"
    print(f"two browsers at once: deltas {results} equal the CLI's")

# A graph model: Grad-CAM's and layer IG's layer is picked from the list the server gives (node names
# and module paths), not typed; the map is the CLI's for that layer.
with Server(model("resnet.safetensors"), "--data", "synthetic-patches", "--limit", 40) as srv:
    d = open_browser()
    try:
        from selenium.webdriver.support.ui import Select
        load(d, srv.url)
        served = [l["name"] for l in srv.api("GET", "/api/info")[1]["models"][0]["layers"]]
        for method in ("gradcam", "ig"):
            picker = d.find_element(By.ID, f"o-{method}-layer")
            assert picker.tag_name == "select", f"{method}'s layer is a {picker.tag_name}, not a list"
            offered = [o.get_attribute("value") for o in Select(picker).options]
            assert offered == [""] + served, f"{method}'s layer list {offered[:6]}... is not the server's {served[:6]}..."
        d.find_element(By.ID, "m-gradcam").click()
        Select(d.find_element(By.ID, "o-gradcam-layer")).select_by_value("layer1")
        card = explain_in_page(d, 5, ["gradcam"])["gradcam"]
        assert card.find_elements(By.TAG_NAME, "canvas"), "no Grad-CAM map drawn"
        assert "layer1" in d.current_url, "the chosen layer is not in the view's URL"
        card.find_element(By.XPATH, ".//button[text()='Save .npy']").click()
        wait(d, lambda: [f for f in os.listdir(downloads) if f.endswith(".npy") and "gradcam" in f], 30)
        saved = np.load(os.path.join(downloads, next(f for f in os.listdir(downloads) if f.endswith(".npy") and "gradcam" in f)))
        np.save(os.path.join(work, "x.npy"), patches[5:6])
        integrad("explain", model("resnet.safetensors"), os.path.join(work, "x.npy"), "-o", os.path.join(work, "g.npy"), "--method", "gradcam", "--layer", "layer1", "-q")
        cli = np.load(os.path.join(work, "g.npy"))
        assert np.allclose(saved.reshape(cli.shape), cli, rtol=1e-6, atol=1e-9), "the page's Grad-CAM at layer1 is not the CLI's"
        screenshot(d, "explorer-screenshot-layers.png")
        print(f"graph model: {len(served)} layers offered by name; Grad-CAM at layer1 equals the CLI's")
    finally:
        d.quit()

# A tabular model whose feature name and data file name are HTML: the slider moves the prediction,
# the names stay text.
integrad("dataset", "--data", "synthetic-tabular", "--split", "test", "--limit", 300, "-o", os.path.join(work, "tab.csv"))
with open(os.path.join(work, "tab.csv")) as f:
    lines = f.read().splitlines()
header = lines[0].split(",")
evil = "<img src=x onerror=window.__xss=1>"
csv = os.path.join(work, "<img src=x onerror=window.__xss=2>.csv")
with open(csv, "w") as f:
    f.write(",".join([header[0] + evil] + header[1:]) + "\n" + "\n".join(lines[1:]) + "\n")
evil_model = os.path.join(work, "evil.safetensors")
integrad("train", "--arch", "tabular", "--inputs", csv, "--labels-column", "label", "--epochs", 20, "--val-limit", 50, "-q", "-o", evil_model)
with Server(evil_model, "--inputs", csv, "--limit", 30) as srv:
    d = open_browser()
    try:
        load(d, srv.url)
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "#prediction-0"))
        before = d.find_element(By.ID, "prediction-0").get_attribute("data-probability")
        slider = d.find_element(By.CSS_SELECTOR, 'input[type="range"][data-feature="0"]')
        slider.send_keys(Keys.END)
        wait(d, lambda: d.find_element(By.ID, "prediction-0").get_attribute("data-probability") != before)
        after = d.find_element(By.ID, "prediction-0").get_attribute("data-probability")
        print(f"tabular: moving feature 0's slider to its end changed p(predicted) {float(before):.4f} -> {float(after):.4f}")
        labels = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".slider span[title]")]
        assert any(evil in t for t in labels), f"the HTML feature name is not shown as text: {labels}"
        assert os.path.basename(csv) in d.find_element(By.ID, "source").text, "the file name is not shown as text"
        assert d.execute_script("return window.__xss === undefined"), "a feature or file name ran as HTML"
        assert not d.find_elements(By.CSS_SELECTOR, "#editor img"), "a feature name became an element"
        explain_in_page(d, 2, ["ig"])
        screenshot(d, "explorer-screenshot-tabular.png")
        print("tabular: the HTML feature name is shown as text, nothing ran")
    finally:
        d.quit()
# A token model: masking tokens changes the prediction; layer IG's delta is the CLI's for the edit.
integrad("dataset", "--data", "synthetic-tokens", "--split", "test", "--limit", 20, "-o", os.path.join(work, "tok.npy"))
tokens = np.load(os.path.join(work, "tok.npy"))
with Server(model("text.safetensors"), "--data", "synthetic-tokens", "--limit", 20) as srv:
    d = open_browser()
    try:
        load(d, srv.url)
        version = lambda: int(d.find_element(By.ID, "predictions").get_attribute("data-version") or 0)
        probability = lambda: d.find_element(By.ID, "prediction-0").get_attribute("data-probability")
        wait(d, lambda: version() >= 1)  # example 0's prediction
        v0 = version()
        d.find_element(By.CSS_SELECTOR, '.example[data-index="3"]').click()
        wait(d, lambda: version() > v0)  # example 3's
        start, edited = probability(), tokens[3].copy()
        for j in range(tokens.shape[1]):
            if edited[j] == 0:
                continue
            d.find_element(By.CSS_SELECTOR, f'#tokens .token[data-position="{j}"]').click()
            v = version()
            d.find_element(By.XPATH, "//button[text()='Mask (id 0)']").click()
            edited[j] = 0
            wait(d, lambda: version() > v)
            if probability() != start:
                break
        assert probability() != start, "masking tokens never changed the prediction"
        print(f"tokens: masking up to position {j} changed p(predicted) {float(start):.6f} -> {float(probability()):.6f}")
        d.find_element(By.ID, "m-ig").click()
        d.find_element(By.ID, "explain").click()
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, '#results .map[data-method="ig"] .delta') or d.find_element(By.ID, "error").text)
        assert not d.find_element(By.ID, "error").text, d.find_element(By.ID, "error").text
        shown = float(d.find_element(By.CSS_SELECTOR, '#results .map[data-method="ig"] .delta').get_attribute("data-value"))
        expected = cli_delta(edited[None], "text.safetensors", "--layer", "0", "--baseline", "0")
        assert abs(shown - expected) <= 1e-5 * max(1.0, abs(expected)), f"token delta {shown} vs the CLI's {expected}"
        assert len(d.find_elements(By.CSS_SELECTOR, "#results .tokens-map .token")) == tokens.shape[1]
        screenshot(d, "explorer-screenshot-tokens.png")
        print(f"tokens: layer IG of the edited sequence, delta {shown:.3g} (the CLI's {expected:.3g})")
    finally:
        d.quit()
print("explorer in Chromium: all checks passed")
