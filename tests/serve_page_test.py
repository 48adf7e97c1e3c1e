#!/usr/bin/python3
"""The page of nmt serve in a real browser (Debian's headless Chromium, driven through
chromedriver by Selenium): it lists the loaded models, and after typing a sentence and
clicking Translate it shows each model's translation (the same as the API's), the n-best
list, a heatmap for the models with attention and the 'no attention' note for the
bottleneck model. Skipped (exit 77) without chromium, chromedriver or python3-selenium.

  serve_page_test.py NMT_BINARY SOURCE_DIR [--screenshot PNG] [--sentence S] [-m NAME=PATH ...]

With -m, the page is shown with those models instead of the tiny regression ones (for the
screenshot in docs/serve.md).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from serve_helpers import Server, regression_model

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

CHROMIUM, CHROMEDRIVER = '/usr/bin/chromium', '/usr/bin/chromedriver'


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-proxy-server',
              '--window-size=1400,900'):
        options.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def check_page(driver, url, sentence, models):
    """Drives the page; returns {model: translation text}. Raises AssertionError on a wrong page."""
    wait = WebDriverWait(driver, 30)
    driver.get(url)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '.model-choice')) == len(models))
    source = driver.find_element(By.ID, 'source')
    source.clear()
    source.send_keys(sentence)
    driver.find_element(By.ID, 'translate').click()
    wait.until(ec.text_to_be_present_in_element((By.ID, 'status'), 'done'))
    texts, scores = {}, {}
    for name, attention in models.items():
        card = driver.find_element(By.CSS_SELECTOR, f'.model-result[data-model="{name}"]')
        errors = card.find_elements(By.CSS_SELECTOR, '.error')
        assert not errors, f'{name}: {errors[0].text}'
        texts[name] = card.find_element(By.CSS_SELECTOR, '.translation').text
        nbest = card.find_elements(By.CSS_SELECTOR, 'table.nbest tr')
        assert nbest, f'{name}: no n-best list'
        scores[name] = float(nbest[0].find_element(By.CSS_SELECTOR, '.score').text)
        assert 'ms' in card.find_element(By.CSS_SELECTOR, '.time').text
        heat = card.find_elements(By.CSS_SELECTOR, 'table.heatmap')
        note = card.find_elements(By.CSS_SELECTOR, '.no-attention')
        if attention:
            assert heat and not note, f'{name}: no heatmap'
            rows = heat[0].find_elements(By.CSS_SELECTOR, 'tbody tr')
            cells = rows[0].find_elements(By.CSS_SELECTOR, 'td')
            assert rows and cells, f'{name}: an empty heatmap'
            assert rows[-1].find_element(By.CSS_SELECTOR, 'th').text == '</s>'
        else:
            assert note and not heat, f'{name}: no "no attention" note'
            assert 'no attention' in note[0].text
    return texts, scores


def run(nmt, model_args, sentence, screenshot, tmp):
    server = Server(nmt, [*model_args, '--cpu-threads', '1'], os.path.join(tmp, 'serve.log'))
    driver = None
    try:
        models = {m['name']: m['attention'] for m in server.request('GET', '/v1/models')[1]['models']}
        driver = browser()
        start = time.time()
        try:
            texts, scores = check_page(driver, f'http://127.0.0.1:{server.port}/', sentence, models)
        except AssertionError:
            driver.save_screenshot(screenshot or os.path.join(tmp, 'failed.png'))
            raise
        for name, text in texts.items():
            status, j = server.translate({'text': [sentence], 'model': name, 'n_best': 1})
            assert status == 200 and j['translations'][0]['text'] == text, (name, text, j)
            assert abs(j['translations'][0]['score'] - scores[name]) <= 0.0005, (name, scores[name], j)
        print(f'page checked in {time.time() - start:.1f} s: {texts}')
        if screenshot:
            driver.save_screenshot(screenshot)
            print('screenshot:', screenshot)
    finally:
        if driver:
            driver.quit()
        assert server.stop() == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument('nmt')
    p.add_argument('source')
    p.add_argument('--screenshot')
    p.add_argument('--sentence', default='g q v d b')
    p.add_argument('-m', '--model', action='append', default=[])
    a = p.parse_args()
    if webdriver is None or not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        print('skipped: needs chromium, chromium-driver and python3-selenium (scripts/install-deps)')
        sys.exit(77)
    names = a.model or [f'{m}={regression_model(a.source, m)}' for m in ('bottleneck', 'attention', 'transformer')]
    tmp = tempfile.mkdtemp(prefix='nmt_serve_page_')
    try:
        run(a.nmt, [x for m in names for x in ('-m', m)], a.sentence, a.screenshot, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
