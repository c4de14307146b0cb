"""Headless Chromium (Debian's chromium + chromium-driver) through Selenium,
for the browser tests of the web app (test_web.py).

The browser gets a fresh profile, the flags of issue 11, and a host resolver
that knows no name: it can reach loopback addresses only.  Its console and
network logs are collected so a test can assert that nothing left loopback
and nothing was refused (CSP) or failed.
"""
import json
import shutil
import tempfile
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1024,768",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Browser:
    """One Chromium with its own profile (its own cookies: a browser context)."""

    def __init__(self, base_url):
        self.base = base_url
        self.profile = tempfile.mkdtemp(prefix="cp-chrome-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for f in FLAGS:
            opts.add_argument(f)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.driver.set_window_size(1024, 768)
        self.console = []
        self.urls = []
        self.allowed = []  # console messages a test expects (an API refusal it provokes)

    def close(self):
        if self.driver is None:
            return
        try:
            self.driver.quit()
            self.driver = None
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def collect(self):
        """Drain the browser's console and network logs into .console / .urls."""
        self.console += self.driver.get_log("browser")
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.urls.append(msg["params"]["request"]["url"])

    def problems(self):
        """Console errors (CSP violations among them) and requests that left loopback."""
        self.collect()
        bad = [f"console: {e['message']}" for e in self.console if e["level"] in ("SEVERE", "ERROR")
               and not any(a in e["message"] for a in self.allowed)]
        for u in self.urls:
            p = urllib.parse.urlsplit(u)
            # Only these schemes reach the network; chrome://, data:, blob: are internal.
            if p.scheme not in ("http", "https", "ws", "wss", "ftp"):
                continue
            if p.hostname not in LOOPBACK:
                bad.append(f"non-loopback request: {u}")
        return bad

    def allow(self, text):
        """Expect a console message holding text (Chromium logs every 4xx answer)."""
        self.allowed.append(text)

    # ---- driving --------------------------------------------------------
    def go(self, fragment):
        self.driver.get(self.base + "/" + fragment)

    def wait(self, css, timeout=15, visible=True):
        cond = EC.visibility_of_element_located if visible else EC.presence_of_element_located
        return WebDriverWait(self.driver, timeout).until(cond((By.CSS_SELECTOR, css)))

    def wait_text(self, css, text, timeout=15):
        WebDriverWait(self.driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait_until(self, fn, timeout=15):
        return WebDriverWait(self.driver, timeout).until(lambda d: fn())

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css, timeout=15):
        WebDriverWait(self.driver, timeout).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def fill(self, css, value):
        el = self.wait(css)
        el.clear()
        el.send_keys(value)

    def set_value(self, css, value):
        """Inputs whose typing depends on the locale (type=date): set and fire change."""
        el = self.wait(css)
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)

    def select(self, css, value):
        Select(self.wait(css)).select_by_value(str(value))

    def login(self, email, password):
        self.go("#/login")
        self.fill("#login-form input[name=email]", email)
        self.fill("#login-form input[name=password]", password)
        self.click("#login-form button[type=submit]")
        self.wait("#agenda .agenda-title")

    # ---- the keyboard alone (issue 11: keyboard operable) ------------------
    def keys(self, *keys):
        """Type into whatever has the focus, as a keyboard would."""
        ActionChains(self.driver).send_keys(*keys).perform()

    def focused(self, css):
        return self.driver.execute_script("return document.activeElement.matches(arguments[0])", css)

    def tab_to(self, css, back=False, limit=60):
        """Press Tab (Shift+Tab when back) until the focused element matches css."""
        for _ in range(limit):
            chain = ActionChains(self.driver)
            if back:
                chain.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
            else:
                chain.send_keys(Keys.TAB)
            chain.perform()
            if self.focused(css):
                return self.driver.switch_to.active_element
        raise AssertionError(f"{limit} presses of {'Shift+' if back else ''}Tab never reached {css}")

    def focus_visible(self):
        """The focused element shows it: it matches :focus-visible and draws an outline."""
        return self.driver.execute_script(
            "const e = document.activeElement, s = getComputedStyle(e);"
            "return e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;")

    def unlabelled(self):
        """The form fields of the page that have no <label> and no aria-label(ledby)."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('input, select, textarea')]"
            ".filter((e) => e.type !== 'hidden' && !(e.labels && e.labels.length)"
            " && !(e.getAttribute('aria-label') || '').trim() && !e.getAttribute('aria-labelledby'))"
            ".map((e) => e.outerHTML.slice(0, 120));")

    def shot(self, path):
        if path:
            self.driver.save_screenshot(path)
