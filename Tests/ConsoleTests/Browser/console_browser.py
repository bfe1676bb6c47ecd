#!/usr/bin/env python3
"""The operators' console in a real browser: headless Chromium driven by Selenium.

    python3 console_browser.py SCENARIO

One function per scenario (SCENARIOS below). The Swift suite (Tests/ConsoleTests) starts
the processes (Redis, bridges, persister, console), runs a scenario with its parameters
in the environment, and checks Redis and MariaDB afterwards:

    CONSOLE_URL      the console, e.g. http://127.0.0.1:7003
    ADMIN_NAME       an admin account (console admin create)
    ADMIN_PASSWORD   its password
    SCREENSHOT_DIR   where every page's screenshot goes (NN-name.png; failure.png and
                     failure.html when an assertion fails)
    CHROMIUM_BIN, CHROMEDRIVER_BIN   default /usr/bin/chromium, /usr/bin/chromedriver
    ...              the scenario's own parameters (see each function)

The last line of stdout is the scenario's result as JSON. Exit status 0: every assertion
held; 1: an assertion failed (the message on stderr); 2: the browser did not start.
"""

import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

LOGIN_FAILED = "管理员账号或密码错误"
LOCKED_OUT = "登录失败次数过多，请稍后再试"
CSRF_REFUSED = "请求已过期，请刷新页面后重试"


class Failure(Exception):
    """An assertion of a scenario that did not hold."""


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise Failure(f"the scenario needs the environment variable {name}")
    return value


def check(condition, message):
    if not condition:
        raise Failure(message)


class Console:
    """The browser on the console: navigation, forms, screenshots."""

    def __init__(self):
        self.url = os.environ.get("CONSOLE_URL", "").rstrip("/")
        self.screenshots = os.environ.get("SCREENSHOT_DIR") or os.getcwd()
        os.makedirs(self.screenshots, exist_ok=True)
        self.count = 0
        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                         "--disable-gpu", "--no-first-run", "--lang=zh-CN"):
            options.add_argument(argument)
        options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
        service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(30)

    def quit(self):
        try:
            self.driver.quit()
        except WebDriverException:
            pass

    # Pages

    def shot(self, name):
        self.count += 1
        path = os.path.join(self.screenshots, f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png")
        self.driver.save_screenshot(path)

    def visit(self, path, name):
        self.driver.get(self.url + path)
        self.wait_loaded()
        self.shot(name)

    def wait_loaded(self):
        WebDriverWait(self.driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def find(self, css, within=None):
        try:
            return (within or self.driver).find_element(By.CSS_SELECTOR, css)
        except NoSuchElementException:
            raise Failure(f"no element {css!r} on {self.driver.current_url}") from None

    def all(self, css, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, css)

    def exists(self, css):
        return len(self.all(css)) > 0

    def text(self, css, within=None):
        return self.find(css, within).text.strip()

    def page_text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    # Forms

    def fill(self, form, values):
        for name, value in values.items():
            field = self.find(f"[name={name!r}]", form)
            if field.tag_name == "select":
                Select(field).select_by_value(str(value))
            else:
                field.clear()
                field.send_keys(str(value))

    def submit(self, form, name, button=None):
        """Clicks the form's submit button and waits for the next page (the 303's target)."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        target = self.find(button) if button else self.find("button[type=submit], input[type=submit], button:not([type])", form)
        target.click()

        def replaced(_driver):
            # Chromium answers a node of the page being replaced with a stale-element error,
            # or, mid-navigation, with "Node with given id does not belong to the document":
            # both mean the old page is gone.
            try:
                old.is_enabled()
                return False
            except WebDriverException:
                return True

        try:
            WebDriverWait(self.driver, 15).until(replaced)
        except TimeoutException:
            raise Failure(f"submitting {name} did not load a new page ({self.driver.current_url})") from None
        self.wait_loaded()
        self.shot(name)

    def expect_flash(self, text):
        check(self.exists("#flash"), f"no #flash after the action (expected {text!r}); #error: {self.error_text()!r}; "
              f"page: {self.page_text()[:300]!r}")
        check(self.text("#flash") == text, f"#flash is {self.text('#flash')!r}, expected {text!r}")

    def expect_error(self, text):
        check(self.exists("#error"), f"no #error (expected {text!r}); page: {self.page_text()[:300]!r}")
        check(self.text("#error") == text, f"#error is {self.text('#error')!r}, expected {text!r}")

    def error_text(self):
        return self.text("#error") if self.exists("#error") else None

    # Session

    def login(self, name=None, password=None, expect_dashboard=True):
        self.visit("/login", "login")
        form = self.find("#login-form")
        csrf = self.all("input[name=csrf]", form)
        check(len(csrf) == 1 and csrf[0].get_attribute("type") == "hidden" and csrf[0].get_attribute("value"),
              "the login form carries one hidden, non-empty csrf input")
        self.fill(form, {"username": name or env("ADMIN_NAME"), "password": password or env("ADMIN_PASSWORD")})
        self.submit(form, "login-submitted", button="#login-submit")
        if expect_dashboard:
            check(self.path() == "/", f"after logging in the dashboard shows, not {self.driver.current_url}; "
                  f"#error: {self.error_text()!r}")
            check(self.text("#admin-name") == (name or env("ADMIN_NAME")), "the nav shows the admin's name")

    def session_cookie(self):
        cookie = self.driver.get_cookie("console_session")
        check(cookie is not None, f"no console_session cookie; cookies: {self.driver.get_cookies()}")
        return cookie

    def form_post(self, path, fields, cookie=None, headers=None, json_body=None):
        """A POST outside the browser with the browser's session cookie: (status, body)."""
        if json_body is not None:
            data = json.dumps(json_body).encode()
            content_type = "application/json"
        else:
            data = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.url + path, data=data, method="POST")
        request.add_header("Content-Type", content_type)
        if cookie:
            request.add_header("Cookie", f"console_session={cookie}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        return http(request)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(request):
    """(status, body text) of a request; redirects are not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def number(text):
    digits = text.replace(",", "").strip()
    check(re.fullmatch(r"-?\d+", digits) is not None, f"{text!r} is not a number")
    return int(digits)


def bridge_refuses(token, bridges):
    """Each bridge's answer to the token on /api/chat/chatGetmessageOffLine."""
    answers = []
    for bridge in bridges:
        request = urllib.request.Request(bridge.rstrip("/") + "/api/chat/chatGetmessageOffLine", data=b"{}", method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("token", token)
        status, body = http(request)
        answers.append({"bridge": bridge, "status": status, "body": body})
    return answers


# Scenarios. Each takes the browser and returns its result (a dict, printed as JSON).

def scenario_smoke(console):
    """The browser starts and renders a page (make test checks this before the tests)."""
    console.driver.get("data:text/html;charset=utf-8,<p id=x>%E4%BD%A0%E5%A5%BD</p>")
    check(console.text("#x") == "你好", "Chromium renders a page")
    return {"browser": console.driver.capabilities.get("browserVersion")}


def scenario_login(console):
    """A wrong password and an unknown admin are refused with one text; the right one
    opens the dashboard; every page of the nav renders; logout ends the session."""
    console.login(password="wrong-" + env("ADMIN_PASSWORD"), expect_dashboard=False)
    console.expect_error(LOGIN_FAILED)
    check(console.path() == "/login", "a refused login stays on /login")
    check(console.driver.get_cookie("console_session") is None, "no session after a refused login")
    console.login(name="nobody-" + env("ADMIN_NAME"), expect_dashboard=False)
    console.expect_error(LOGIN_FAILED)
    console.login()
    cookie = console.session_cookie()
    pages = {}
    for link in ("nav-dashboard", "nav-users", "nav-complaints", "nav-groups", "nav-deadletters", "nav-audit"):
        href = console.find(f"#{link}").get_attribute("href")
        console.visit(urllib.parse.urlsplit(href).path, link)
        check(console.text("#admin-name") == env("ADMIN_NAME"), f"{link}: the nav shows the admin")
        pages[link] = console.path()
    check(console.exists("table#audit"), "the audit page has its table")
    console.submit(console.find("#logout-form"), "logout")
    check(console.path() == "/login", f"logout shows the login page, not {console.driver.current_url}")
    console.visit("/users", "after-logout")
    check(console.path() == "/login", f"after logout /users sends to /login, not {console.driver.current_url}")
    return {
        "cookie": {"value": cookie["value"], "httpOnly": cookie.get("httpOnly"), "sameSite": cookie.get("sameSite"), "secure": cookie.get("secure"),
                   "path": cookie.get("path")},
        "pages": pages,
    }


def scenario_lockout(console):
    """Wrong passwords until the lockout text shows (at most MAX_ATTEMPTS); then even the
    right password is refused with it, on the page and by the JSON login."""
    limit = int(env("MAX_ATTEMPTS", "20"))
    for attempt in range(1, limit + 1):
        console.login(password=f"wrong-{attempt}", expect_dashboard=False)
        error = console.error_text()
        if error == LOCKED_OUT:
            break
        check(error == LOGIN_FAILED, f"attempt {attempt}: #error is {error!r}")
    else:
        raise Failure(f"no lockout after {limit} wrong passwords")
    console.login(expect_dashboard=False)
    console.expect_error(LOCKED_OUT)
    check(console.driver.get_cookie("console_session") is None, "no session while locked out")
    status, body = console.form_post("/api/login", None, json_body={"username": env("ADMIN_NAME"), "password": env("ADMIN_PASSWORD")})
    check(json.loads(body).get("data") == LOCKED_OUT, f"the JSON login is locked too: {status} {body}")
    return {"locked_after": attempt}


def scenario_create_user(console):
    """Creates NEW_USERNAME (NEW_PASSWORD, NEW_NICKNAME) on /users/new; finds it by
    username, id and nickname; the same username again is refused."""
    username, password, nickname = env("NEW_USERNAME"), env("NEW_PASSWORD"), env("NEW_NICKNAME")
    console.login()
    console.visit("/users/new", "users-new")
    console.fill(console.find("#user-form"), {"username": username, "password": password, "nickname": nickname})
    console.submit(console.find("#user-form"), "user-created", button="#user-submit")
    console.expect_flash("创建成功")
    console.visit("/users?q=" + urllib.parse.quote(username), "users-search-username")
    rows = [row for row in console.all("#users tr[data-user-id]") if console.text("td.username", row) == username]
    check(len(rows) == 1, f"one row for {username} in the search by username, found {len(rows)}")
    user_id = int(rows[0].get_attribute("data-user-id"))
    check(console.text("td.nickname", rows[0]) == nickname, "the row shows the nickname")
    check(console.text("td.status", rows[0]) == "启用", "a new user is enabled")
    console.visit(f"/users?q={user_id}", "users-search-id")
    ids = [row.get_attribute("data-user-id") for row in console.all("#users tr[data-user-id]")]
    check(ids == [str(user_id)], f"the search by id shows exactly that user, not {ids}")
    console.visit("/users?q=" + urllib.parse.quote(nickname[:-1]), "users-search-nickname")
    ids = [row.get_attribute("data-user-id") for row in console.all("#users tr[data-user-id]")]
    check(str(user_id) in ids, f"the search by a nickname prefix finds the user ({ids})")
    console.visit("/users/new", "users-new-again")
    console.fill(console.find("#user-form"), {"username": username, "password": password})
    console.submit(console.find("#user-form"), "user-taken", button="#user-submit")
    console.expect_error("即时通讯用户账号已存在")
    return {"id": user_id}


def scenario_user_status(console):
    """ACTION disable, enable or delete on /users/USER_ID. With USER_TOKEN and BRIDGE_URLS
    (comma separated), the token's answer on each bridge right after the page confirms."""
    user_id, action = env("USER_ID"), env("ACTION")
    console.login()
    console.visit(f"/users/{user_id}", f"user-before-{action}")
    form = console.find(f"#{action}-form")
    submitted_at = time.time()
    console.submit(form, f"user-{action}d")
    confirmed_at = time.time()
    console.expect_flash({"disable": "禁用成功", "enable": "启用成功", "delete": "删除成功"}[action])
    answers = []
    token = os.environ.get("USER_TOKEN")
    if token:
        answers = bridge_refuses(token, [url for url in env("BRIDGE_URLS").split(",") if url])
    answered_at = time.time()
    console.visit(f"/users?q={user_id}", f"users-after-{action}")
    row = console.find(f"#users tr[data-user-id='{user_id}']")
    expected = {"disable": "禁用", "enable": "启用", "delete": "已删除"}[action]
    check(console.text("td.status", row) == expected, f"the list shows {expected}, not {console.text('td.status', row)!r}")
    return {
        "submitted_at_ms": int(submitted_at * 1000), "confirmed_at_ms": int(confirmed_at * 1000),
        "answered_at_ms": int(answered_at * 1000), "token_answers": answers,
    }


def scenario_edit_user(console):
    """On /users/USER_ID: the nickname to NEW_NICKNAME, then the password to NEW_PASSWORD
    (the other fields as they are), then the username to TAKEN_USERNAME (refused); an
    unknown id."""
    user_id = env("USER_ID")
    console.login()
    console.visit(f"/users/{user_id}", "user-edit")
    form = console.find("#user-form")
    check(console.find("[name=password]", form).get_attribute("value") == "", "the password field starts empty")
    username = console.find("[name=username]", form).get_attribute("value")
    console.fill(form, {"nickname": env("NEW_NICKNAME")})
    console.submit(form, "user-nickname-changed", button="#user-submit")
    console.expect_flash("修改成功")
    console.visit(f"/users/{user_id}", "user-edit-again")
    form = console.find("#user-form")
    check(console.find("[name=nickname]", form).get_attribute("value") == env("NEW_NICKNAME"), "the new nickname shows")
    console.fill(form, {"password": env("NEW_PASSWORD")})
    console.submit(form, "user-password-reset", button="#user-submit")
    console.expect_flash("修改成功")
    console.visit(f"/users/{user_id}", "user-edit-username")
    form = console.find("#user-form")
    console.fill(form, {"username": env("TAKEN_USERNAME")})
    console.submit(form, "user-username-taken", button="#user-submit")
    console.expect_error("该即时通讯用户账号已经存在，不能修改成该即时通讯用户账号")
    console.visit("/users/1999999999", "user-unknown")
    check("该即时通讯用户记录不存在" in console.page_text(), "an unknown id says 该即时通讯用户记录不存在")
    return {"username": username}


def scenario_reply_complaint(console):
    """COMPLAINT_ID (status 0, REASON and CONTENT, by REPORTER_ID against TARGET_ID named
    TARGET_NAME) found with the status filter; replied with status 2 and REPLY; then
    listed under 已处理 only."""
    complaint_id, reply = env("COMPLAINT_ID"), env("REPLY")
    console.login()
    console.visit("/complaints", "complaints")
    filter_form = console.find("#complaint-filter")
    console.fill(filter_form, {"status": "0"})
    console.submit(filter_form, "complaints-pending")
    row = console.find(f"#complaints tr[data-complaint-id='{complaint_id}']")
    check(console.text("td.status", row) == "待处理", f"status {console.text('td.status', row)!r}")
    reporter, target = console.text("td.reporter", row), console.text("td.target", row)
    check(f"（{env('REPORTER_ID')}）" in reporter, f"the reporter {reporter!r} names user {env('REPORTER_ID')}")
    check(f"（{env('TARGET_ID')}）" in target and env("TARGET_NAME") in target, f"the target {target!r}")
    check(console.text("td.reason", row) == env("REASON"), f"reason {console.text('td.reason', row)!r}")
    console.visit(f"/complaints/{complaint_id}", "complaint")
    check(env("CONTENT") in console.text("#complaint-content"), "the complaint's content shows")
    form = console.find("#reply-form")
    console.fill(form, {"status": "2", "admin_reply": reply})
    typed = console.find("[name=admin_reply]", form).get_attribute("value")
    check(typed == reply, f"the form takes the whole reply ({len(typed)} of {len(reply)} characters)")
    console.submit(form, "complaint-replied", button="#reply-submit")
    console.expect_flash("处理成功")
    console.visit("/complaints?status=2", "complaints-handled")
    row = console.find(f"#complaints tr[data-complaint-id='{complaint_id}']")
    check(console.text("td.status", row) == "已处理", f"status {console.text('td.status', row)!r}")
    console.visit("/complaints?status=0", "complaints-pending-after")
    check(not console.exists(f"#complaints tr[data-complaint-id='{complaint_id}']"), "no longer under 待处理")
    return {}


def scenario_group_status(console):
    """ACTION disable or enable on /groups/GROUP_ID; MEMBER_IDS (comma separated) listed."""
    group_id, action = env("GROUP_ID"), env("ACTION")
    members = sorted(env("MEMBER_IDS").split(","))
    console.login()
    console.visit(f"/groups?q={group_id}", "groups-search")
    row = console.find(f"#groups tr[data-group-id='{group_id}']")
    before = console.text("td.status", row)
    check(number(console.text("td.members", row)) == len(members), f"members {console.text('td.members', row)!r}")
    name = console.text("td.name", row)
    console.visit(f"/groups/{group_id}", f"group-before-{action}")
    listed = sorted(row.get_attribute("data-user-id") for row in console.all("#members tr[data-user-id]"))
    check(listed == members, f"members listed {listed}, expected {members}")
    console.submit(console.find(f"#{action}-form"), f"group-{action}d")
    console.expect_flash({"disable": "禁用成功", "enable": "启用成功"}[action])
    console.visit(f"/groups?q={group_id}", f"groups-after-{action}")
    row = console.find(f"#groups tr[data-group-id='{group_id}']")
    expected = {"disable": "禁用", "enable": "启用"}[action]
    check(console.text("td.status", row) == expected, f"the list shows {expected}, not {console.text('td.status', row)!r}")
    return {"status_before": before, "name": name}


def read_dashboard(console):
    nodes = {}
    for row in console.all("#nodes tr.node"):
        nodes[console.text("td.node-id", row)] = {
            "sockets": number(console.text("td.node-sockets", row)), "users": number(console.text("td.node-users", row)),
        }
    streams = {}
    for row in console.all("#streams tr[data-stream]"):
        streams[row.get_attribute("data-stream")] = {
            "length": number(console.text("td.length", row)), "pending": number(console.text("td.pending", row)),
            "lag": console.text("td.lag", row),
        }
    chart = console.all("#messages-chart")
    check(len(chart) == 1, "the dashboard has #messages-chart")
    svg = chart[0] if chart[0].tag_name == "svg" else console.find("svg", chart[0])
    return {
        "online_users": number(console.text("#online-users")),
        "sockets_total": number(console.text("#sockets-total")),
        "messages_last_hour": number(console.text("#messages-last-hour")),
        "deadletters": number(console.text("#deadletters-count")),
        "nodes": nodes,
        "streams": streams,
        "chart": read_chart(console, svg),
    }


def read_chart(console, svg):
    """The chart's bars: how many are drawn with a height, and the sum of the counts their
    titles ("{minute} {count}") give."""
    bars = console.all("rect", svg)
    drawn = sum(1 for bar in bars if float(bar.get_attribute("height") or 0) > 0)
    total = 0
    for bar in bars:
        title = (bar.find_elements(By.TAG_NAME, "title") or [None])[0]
        count = re.search(r"(\d+)\s*$", title.get_attribute("textContent") if title else "")
        check(count is not None, "every bar of the chart has a title ending with its count")
        total += int(count.group(1))
    return {"bars": len(bars), "drawn": drawn, "total": total}


def matches(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and matches(value, actual[key]) for key, value in expected.items())
    return expected == actual


def scenario_dashboard(console):
    """Reads the dashboard's numbers; with EXPECT (JSON, a subset of the result) reloads
    until they match, at most TIMEOUT seconds (default 0: read once)."""
    expected = json.loads(os.environ.get("EXPECT", "{}"))
    deadline = time.time() + float(os.environ.get("TIMEOUT", "0"))
    console.login()
    while True:
        numbers = read_dashboard(console)
        if matches(expected, numbers):
            console.shot("dashboard")
            return numbers
        if time.time() > deadline:
            console.shot("dashboard-unexpected")
            raise Failure(f"the dashboard shows {json.dumps(numbers, ensure_ascii=False)}, expected {json.dumps(expected)}")
        time.sleep(0.5)
        console.driver.refresh()
        console.wait_loaded()


def scenario_deadletter(console):
    """ENTRY_ID (a dead letter of STREAM whose error contains ERROR_CONTAINS) listed, then
    ACTION replay or drop from its row; gone from the list afterwards."""
    entry, action = env("ENTRY_ID"), env("ACTION")
    console.login()
    before = number(console.text("#deadletters-count"))
    console.visit("/deadletters", "deadletters")
    row = console.find(f"#deadletters tr[data-entry-id='{entry}']")
    check(console.text("td.stream", row) == env("STREAM"), f"stream {console.text('td.stream', row)!r}")
    error = console.text("td.error", row)
    check(env("ERROR_CONTAINS") in error, f"the error {error!r} names the cause ({env('ERROR_CONTAINS')!r})")
    attempts = number(console.text("td.attempts", row))
    console.submit(console.find(f"form.{action}-form", row), f"deadletter-{action}")
    console.expect_flash({"replay": "重放成功", "drop": "已丢弃"}[action])
    console.visit("/deadletters", f"deadletters-after-{action}")
    check(not console.exists(f"#deadletters tr[data-entry-id='{entry}']"), "the entry is no longer listed")
    return {"attempts": attempts, "error": error, "count_before": before}


def scenario_audit(console):
    """The audit page's rows, newest first: admin, action, target."""
    console.login()
    console.visit("/audit", "audit")
    return {"rows": [
        {"admin": console.text("td.admin", row), "action": console.text("td.action", row), "target": console.text("td.target", row)}
        for row in console.all("#audit tr.audit")
    ]}


def scenario_csrf(console):
    """A form posted without its csrf input (the browser, the input removed) and with a
    wrong one (outside the browser, with the session cookie): 403 and CSRF_REFUSED; the
    JSON API without X-CSRF-Token: 403; a login without its csrf: 403."""
    username = env("NEW_USERNAME")
    console.login()
    cookie = console.session_cookie()["value"]
    console.visit("/users/new", "csrf-form")
    form = console.find("#user-form")
    console.fill(form, {"username": username, "password": "secret1"})
    console.driver.execute_script("document.querySelectorAll('#user-form input[name=csrf]').forEach(e => e.remove())")
    console.submit(form, "csrf-refused", button="#user-submit")
    check(CSRF_REFUSED in console.page_text(), f"the page says {CSRF_REFUSED}: {console.page_text()[:300]!r}")
    answers = {}
    fields = {"username": username, "password": "secret1"}
    answers["form_without"] = console.form_post("/users", fields, cookie=cookie)
    answers["form_wrong"] = console.form_post("/users", dict(fields, csrf="not-the-token"), cookie=cookie)
    answers["api_without"] = console.form_post("/api/users", None, cookie=cookie, json_body=fields)
    answers["api_wrong"] = console.form_post("/api/users", None, cookie=cookie, json_body=fields,
                                             headers={"X-CSRF-Token": "not-the-token"})
    answers["login_without"] = console.form_post("/login", {"username": env("ADMIN_NAME"), "password": env("ADMIN_PASSWORD")})
    for name, (status, body) in answers.items():
        check(status == 403, f"{name}: HTTP {status}, expected 403: {body[:200]!r}")
        check(CSRF_REFUSED in body, f"{name}: the answer says {CSRF_REFUSED}: {body[:200]!r}")
    # The page itself still works with its token: the refusal was the token's.
    console.visit(f"/users?q={urllib.parse.quote(username)}", "csrf-users")
    check(not any(console.text("td.username", row) == username for row in console.all("#users tr[data-user-id]")),
          "no user was created")
    return {name: status for name, (status, _) in answers.items()}


SCENARIOS = {name[len("scenario_"):]: function for name, function in globals().items() if name.startswith("scenario_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {'|'.join(sorted(SCENARIOS))}", file=sys.stderr)
        return 64
    name = sys.argv[1]
    try:
        console = Console()
    except WebDriverException as error:
        print(f"BROWSER DID NOT START: {error.msg or error}", file=sys.stderr)
        return 2
    try:
        result = SCENARIOS[name](console)
    except (Failure, WebDriverException) as error:
        message = error.msg if isinstance(error, WebDriverException) else str(error)
        print(f"FAILED {name}: {message} (at {console.driver.current_url})", file=sys.stderr)
        try:
            console.driver.save_screenshot(os.path.join(console.screenshots, "failure.png"))
            with open(os.path.join(console.screenshots, "failure.html"), "w", encoding="utf-8") as page:
                page.write(console.driver.page_source)
        except WebDriverException:
            pass
        return 1
    finally:
        console.quit()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
