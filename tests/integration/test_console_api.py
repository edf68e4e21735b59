"""The console's admin API (docs/console.md, docs/api/admin.yaml) against the real binary: authentication (cookie
attributes, sessions kept in the database across a copy, a restart and a second node, logout, the login rate
limit stored so that it holds across nodes), CSRF on every change, the three roles (what support and a merchant
may not do, and a merchant never seeing another merchant's data), every action with its effect checked through
the merchant protocols and its audit entry (actor, action, target, before and after) read back through the audit
API and its filters, CSV exports, the statement's running balance, the daily reconciliation, input validation,
and the CLI equivalents (audited as cli:<unix user>).

Only the contract is assumed: field names, status codes and error codes are docs/console.md's."""

import csv
import io
import json
import os
import pwd
import re
import subprocess
import time
import unittest
import urllib.parse
from datetime import datetime, timedelta, timezone

import harness
from harness import (CashierClient, ConsignClient, GatewayClient, PaygateTestCase, Receiver, Server, fee_fen,
                     http_request, unique, wait_until)

API = "/admin/api"
UTC_OFFSET = timedelta(minutes=480)       # [console] utc_offset_minutes default: days are Beijing days

USER_FIELDS = {"id", "name", "role", "merchant_id", "enabled", "created_at_ms", "last_login_at_ms"}
AUDIT_FIELDS = {"id", "at_ms", "actor_name", "actor_role", "action", "target_type", "target_id", "before", "after",
                "remote_ip", "request_id"}
ORDER_FIELDS = {"id", "protocol", "kind", "merchant_id", "merchant_name", "merchant_order_id", "channel", "amount_fen",
                "settled_fen", "fee_fen", "status", "created_at_ms", "updated_at_ms"}
MERCHANT_FIELDS = {"id", "name", "enabled", "app_key", "keys_version", "key_fingerprint", "aes_key_fingerprint",
                   "payout_fee_fen", "payout_manual_approval", "settlement_delay_days", "bound_card_allowed",
                   "ip_allowlist", "created_at_ms", "updated_at_ms"}
BALANCE_FIELDS = {"merchant_id", "merchant_name", "available_fen", "pending_fen", "frozen_fen", "payout_reserved_fen"}
ERROR_STATUS = {"bad_request": 400, "unauthenticated": 401, "bad_credentials": 401, "csrf": 403, "forbidden": 403,
                "not_found": 404, "method_not_allowed": 405, "conflict": 409, "unsupported_media_type": 415, "payload_too_large": 413,
                "rate_limited": 429, "unavailable": 503, "internal": 500}

ADMIN_PW = "admin-password-0001"
SUPPORT_PW = "support-password-0001"
MERCHANT_PW = "merchant-password-0001"


def unix_user():
    return pwd.getpwuid(os.getuid()).pw_name


def today_local():
    return (datetime.now(timezone.utc) + UTC_OFFSET).strftime("%Y-%m-%d")


def now_ms():
    return int(time.time() * 1000)


def yuan(fen):
    return harness.fen_to_yuan(fen)


# ------------------------------------------------------------------------------------------------ the client

def set_cookies(r):
    return [v for k, v in r.headers if k.lower() == "set-cookie"]


def session_cookie(r):
    """(value, [attributes]) of the pg_console Set-Cookie of a response, or None."""
    for c in set_cookies(r):
        parts = [p.strip() for p in c.split(";")]
        name, _, value = parts[0].partition("=")
        if name == "pg_console":
            return value, parts[1:]
    return None


class Api:
    """One console client: the pg_console cookie and the CSRF token of its session."""

    def __init__(self, srv, cookie=None, csrf=None):
        self.srv = srv
        self.cookie = cookie
        self.csrf = csrf
        self.user = None

    def login(self, name, password, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        r = http_request(self.srv.port, "POST", API + "/login",
                         body=json.dumps({"name": name, "password": password}).encode(), headers=h)
        if r.status == 200:
            c = session_cookie(r)
            if c is None:
                raise AssertionError("login answered 200 without a pg_console cookie: %r %r" % (r, r.headers))
            self.cookie = c[0]
            self.csrf = r.json["csrf_token"]
            self.user = r.json["user"]
        return r

    def request(self, method, path, body=None, query=None, csrf=True, headers=None,
                content_type="application/json"):
        h = {}
        if self.cookie is not None:
            h["Cookie"] = "pg_console=" + self.cookie
        if method not in ("GET", "HEAD"):
            if csrf is True and self.csrf is not None:
                h["X-CSRF-Token"] = self.csrf
            elif isinstance(csrf, str):
                h["X-CSRF-Token"] = csrf
            if body is None:
                body = {}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            if content_type:
                h["Content-Type"] = content_type
        h.update(headers or {})
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        return http_request(self.srv.port, method, API + path, body=data, headers=h)

    def get(self, path, **query):
        return self.request("GET", path, query=query)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def ok(self, r, status=200):
        """The JSON body of a response that must have `status`."""
        if r.status != status:
            raise AssertionError("expected HTTP %d, got %r" % (status, r))
        return r.json if r.body else None

    def all_items(self, path, limit=200, **query):
        items, cursor, pages = [], None, 0
        while True:
            page = self.ok(self.get(path, limit=limit, cursor=cursor, **query))
            items += page["items"]
            cursor = page["next_cursor"]
            pages += 1
            if not cursor:
                return items
            if pages > 200:
                raise AssertionError("more than 200 pages of %s" % path)

    # -- shortcuts

    def order(self, oid):
        return self.ok(self.get("/orders/" + urllib.parse.quote(oid, safe="")))

    def find_order(self, q):
        items = self.ok(self.get("/orders", q=q))["items"]
        if len(items) != 1:
            raise AssertionError("q=%s: expected one order, got %r" % (q, items))
        return items[0]

    def balance(self, mid):
        items = self.ok(self.get("/balances", merchant_id=mid))["items"]
        rows = [b for b in items if b["merchant_id"] == mid]
        if len(rows) != 1:
            raise AssertionError("balances?merchant_id=%s: %r" % (mid, items))
        return rows[0]

    def audit(self, **query):
        return self.ok(self.get("/audit", **query))["items"]


def create_operator(srv, name, role, password):
    """`paygate operator create --name N --role R`, the password given on standard input."""
    p = _cli_with_stdin(srv, ["operator", "create", "--name", name, "--role", role, "--password-stdin", "--json"],
                        password + "\n")
    return p


def _cli_with_stdin(srv, args, stdin_text):
    cmd = [srv.bin] + [str(a) for a in args] + ["--config", srv.config, "--data", srv.data]
    p = subprocess.run(cmd, input=stdin_text.encode(), capture_output=True, timeout=60, cwd=srv.tmp,
                       env=harness._child_env(srv.extra_env, srv.master_key))
    if p.returncode != 0:
        raise harness.CliError("paygate %s exited %d\nstdout: %s\nstderr: %s"
                               % (" ".join(args), p.returncode, p.stdout.decode(errors="replace"),
                                  p.stderr.decode(errors="replace")))
    out = p.stdout.decode("utf-8", "replace")
    return json.loads(out) if "--json" in args else out


class ConsoleCase(PaygateTestCase):
    """Assertions on the contract's shapes."""

    def assertError(self, r, code, status=None):
        """HTTP status and {"error": {"code", "message"}} exactly."""
        want = status or ERROR_STATUS[code]
        self.assertEqual(r.status, want, "expected %d %s, got %r" % (want, code, r))
        self.assertIn("application/json", r.header("Content-Type") or "", r)
        body = r.json
        self.assertEqual(set(body.keys()), {"error"}, body)
        self.assertEqual(set(body["error"].keys()), {"code", "message"}, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        self.assertTrue(body["error"]["message"].strip(), "the message says what is wrong: %r" % body)

    def assertUser(self, u, name=None, role=None, merchant_id=None):
        self.assertEqual(set(u.keys()), USER_FIELDS, u)
        self.assertIsInstance(u["id"], int)
        if name is not None:
            self.assertEqual(u["name"], name)
        if role is not None:
            self.assertEqual(u["role"], role)
            if role != "merchant":
                self.assertIsNone(u["merchant_id"], u)
        if merchant_id is not None:
            self.assertEqual(u["merchant_id"], merchant_id)

    def assertList(self, body):
        self.assertEqual(set(body.keys()) >= {"items", "next_cursor"}, True, body)
        self.assertIsInstance(body["items"], list)
        return body["items"]

    def audit_entry(self, api, action, target_id=None, actor=None, count=1, **filters):
        """The newest audit entries with this action (and target/actor), checked for shape; the newest one."""
        q = dict(action=action, **filters)
        if actor is not None:
            q["actor"] = actor
        items = [e for e in api.audit(**q) if target_id is None or e["target_id"] == str(target_id)]
        self.assertGreaterEqual(len(items), count, "audit entries %s %s: %r" % (action, target_id, items))
        for e in items:
            self.assertEqual(set(e.keys()), AUDIT_FIELDS, e)
            self.assertEqual(e["action"], action)
            self.assertIsInstance(e["before"], dict, e)
            self.assertIsInstance(e["after"], dict, e)
            self.assertIsInstance(e["at_ms"], int)
        return items[0]


def wait_delivered(api, oid):
    """Until the order's latest notification is recorded delivered (the receiver has it a moment before the
    platform records the answer; a resend in that moment counts the delivery in flight as its attempt)."""
    return wait_until(lambda: (lambda n: n and n[-1]["state"] == "delivered")(api.order(oid)["notifications"]),
                      10, 0.05, "the notification of %s to be recorded delivered" % oid)


def merchant_id_of(m):
    return int(m["id"])


def new_world(srv, rx=None):
    """An admin session on srv."""
    create_operator(srv, "root-admin", "admin", ADMIN_PW)
    admin = Api(srv)
    r = admin.login("root-admin", ADMIN_PW)
    if r.status != 200:
        raise AssertionError("admin login: %r" % r)
    return admin


def make_user(admin, name, role, password, merchant_id=None):
    body = {"name": name, "role": role, "password": password}
    if merchant_id is not None:
        body["merchant_id"] = merchant_id
    return admin.ok(admin.post("/users", body), 201)


def logged_in(srv, name, password):
    a = Api(srv)
    r = a.login(name, password)
    if r.status != 200:
        raise AssertionError("login %s: %r" % (name, r))
    return a


def parse_csv(tc, r):
    tc.assertEqual(r.status, 200, r)
    ctype = (r.header("Content-Type") or "").lower().replace(" ", "")
    tc.assertEqual(ctype, "text/csv;charset=utf-8", r.header("Content-Type"))
    tc.assertTrue(r.body.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM first: %r" % r.body[:20])
    rows = list(csv.reader(io.StringIO(r.body[3:].decode("utf-8"))))
    tc.assertTrue(rows and rows[0], "a header line: %r" % rows[:2])
    tc.assertFalse(any(re.fullmatch(r"-?\d+(\.\d+)?", h) for h in rows[0]), "the first line is a header: %r" % rows[0])
    return rows[0], [row for row in rows[1:] if row and not row[0].startswith("#")]


# ========================================================================================== authentication

class AuthTests(ConsoleCase):
    """At most 3 failed logins on this server (the per-address limit is 5)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-auth")
        harness.start_or_dump(cls.srv)
        cls.admin = new_world(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_without_a_session_every_endpoint_answers_401(self):
        anon = Api(self.srv)
        for path in ("/me", "/orders", "/users", "/audit", "/merchants", "/balances", "/dashboard", "/catalogue",
                     "/orders.csv", "/notifications", "/statement?merchant_id=1",
                     "/reconciliation?date=" + today_local()):
            self.assertError(anon.request("GET", path), "unauthenticated")
        self.assertError(anon.post("/merchants", {"name": "nobody"}), "unauthenticated")
        gone = anon.post("/logout")      # without a live session: 204 and the cookie cleared
        self.assertEqual(gone.status, 204, gone)
        forged = Api(self.srv, cookie="A" * 43, csrf="x")
        self.assertError(forged.get("/me"), "unauthenticated")
        self.assertError(Api(self.srv, cookie="").get("/me"), "unauthenticated")

    def test_login_sets_an_httponly_strict_cookie_and_answers_the_user(self):
        a = Api(self.srv)
        r = a.login("root-admin", ADMIN_PW)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json.keys()), {"user", "csrf_token"}, r.json)
        self.assertUser(r.json["user"], name="root-admin", role="admin")
        self.assertIsNone(r.json["user"]["merchant_id"])
        self.assertTrue(r.json["user"]["enabled"])
        self.assertGreater(r.json["user"]["last_login_at_ms"], now_ms() - 60_000)
        self.assertGreaterEqual(len(r.json["csrf_token"]), 16)
        value, attrs = session_cookie(r)
        self.assertGreaterEqual(len(value), 43, "256 random bits: %r" % value)
        low = [x.lower() for x in attrs]
        self.assertIn("httponly", low, attrs)
        self.assertIn("samesite=strict", low, attrs)
        self.assertIn("path=/", low, attrs)
        self.assertNotIn("secure", low, "no Secure over plain http: %r" % attrs)
        self.assertNotIn(ADMIN_PW, r.text)
        self.assertNotIn("hash", r.text)
        me = a.ok(a.get("/me"))
        self.assertEqual(me, {"user": me["user"], "csrf_token": r.json["csrf_token"]})
        self.assertUser(me["user"], name="root-admin", role="admin")
        # Every login is a session of its own.
        b = Api(self.srv)
        b.login("root-admin", ADMIN_PW)
        self.assertNotEqual(b.cookie, a.cookie)
        self.assertNotEqual(b.csrf, a.csrf)

    def test_cookie_is_secure_behind_a_tls_proxy(self):
        a = Api(self.srv)
        r = a.login("root-admin", ADMIN_PW, headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("secure", [x.lower() for x in session_cookie(r)[1]], session_cookie(r))

    def test_bad_password_and_unknown_name_are_the_same_401(self):
        a = Api(self.srv)
        bad = a.login("root-admin", "wrong-password-123")
        self.assertError(bad, "bad_credentials")
        self.assertIsNone(session_cookie(bad), "no session after a failure")
        nobody = a.login("no-such-user", "wrong-password-123")
        self.assertError(nobody, "bad_credentials")
        self.assertEqual(nobody.json["error"]["message"], bad.json["error"]["message"],
                         "an unknown name is not told apart from a bad password")

    def test_login_needs_json(self):
        form = http_request(self.srv.port, "POST", API + "/login",
                            body=urllib.parse.urlencode({"name": "root-admin", "password": ADMIN_PW}).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(form, "unsupported_media_type")
        self.assertIsNone(session_cookie(form))
        plain = http_request(self.srv.port, "POST", API + "/login",
                             body=json.dumps({"name": "root-admin", "password": ADMIN_PW}).encode(),
                             headers={"Content-Type": "text/plain"})
        self.assertError(plain, "unsupported_media_type")
        broken = http_request(self.srv.port, "POST", API + "/login", body=b'{"name": "root-admin", "pass',
                              headers={"Content-Type": "application/json"})
        self.assertError(broken, "bad_request")
        typed = http_request(self.srv.port, "POST", API + "/login", body=b'{"name": 5, "password": []}',
                             headers={"Content-Type": "application/json"})
        self.assertError(typed, "bad_request")

    def test_logout_ends_the_session(self):
        a = logged_in(self.srv, "root-admin", ADMIN_PW)
        copy = Api(self.srv, cookie=a.cookie, csrf=a.csrf)
        self.assertError(a.post("/logout", csrf=False), "csrf")
        self.assertEqual(a.get("/me").status, 200, "a refused logout leaves the session")
        r = a.post("/logout")
        self.assertEqual(r.status, 204, r)
        c = session_cookie(r)
        self.assertIsNotNone(c, "logout clears the cookie: %r" % r.headers)
        self.assertTrue(c[0] == "" or any(x.lower().startswith("max-age=0") or x.lower().startswith("expires=")
                                          for x in c[1]), c)
        self.assertError(a.get("/me"), "unauthenticated")
        self.assertError(copy.get("/orders"), "unauthenticated", )

    def test_a_copied_cookie_is_the_same_session(self):
        a = logged_in(self.srv, "root-admin", ADMIN_PW)
        copy = Api(self.srv, cookie=a.cookie, csrf=a.csrf)
        me = copy.ok(copy.get("/me"))
        self.assertEqual(me["user"]["name"], "root-admin")
        self.assertEqual(me["csrf_token"], a.csrf)
        name = unique("made-by-copy")
        u = make_user(copy, name, "support", SUPPORT_PW)
        self.assertUser(u, name=name, role="support")


class SessionPersistenceTests(ConsoleCase):
    """Sessions live in the database: a restart keeps them; a second node on the same PostgreSQL database serves
    them. (The idle and absolute limits are at least a minute: the unit tests cover them on a fake clock.)"""

    def test_session_survives_a_restart(self):
        srv = Server(name="console-restart")
        try:
            harness.start_or_dump(srv)
            admin = new_world(srv)
            cookie, csrf = admin.cookie, admin.csrf
            self.assertEqual(srv.stop(), 0)
            srv.start()
            after = Api(srv, cookie=cookie, csrf=csrf)
            me = after.ok(after.get("/me"))
            self.assertEqual((me["user"]["name"], me["csrf_token"]), ("root-admin", csrf))
            make_user(after, unique("after-restart"), "support", SUPPORT_PW)
            srv.kill()
            srv.start()
            self.assertEqual(after.get("/me").status, 200, "committed sessions survive a crash too")
        finally:
            srv.close()

    def test_second_node_serves_the_session(self):
        harness.require_postgres("a second node on the same database")
        a = Server(name="console-node-a")
        b = None
        try:
            harness.start_or_dump(a)
            admin = new_world(a)
            b = Server(name="console-node-b", database=a.database)
            harness.start_or_dump(b)
            on_b = Api(b, cookie=admin.cookie, csrf=admin.csrf)
            self.assertEqual(on_b.ok(on_b.get("/me"))["user"]["name"], "root-admin")
            name = unique("from-b")
            make_user(on_b, name, "support", SUPPORT_PW)
            self.assertIn(name, [u["name"] for u in admin.ok(admin.get("/users"))["items"]])
            self.assertEqual(on_b.post("/logout").status, 204)
            self.assertError(admin.get("/me"), "unauthenticated")
        finally:
            if b is not None:
                b.close()
            a.close()


class RateLimitTests(ConsoleCase):

    def test_five_failures_then_429_even_with_the_right_password(self):
        srv = Server(name="console-ratelimit")
        other = None
        try:
            harness.start_or_dump(srv)
            create_operator(srv, "victim", "admin", ADMIN_PW)
            create_operator(srv, "bystander", "support", SUPPORT_PW)
            a = Api(srv)
            for i in range(5):
                self.assertError(a.login("victim", "wrong-password-%d" % i), "bad_credentials")
            r = a.login("victim", ADMIN_PW)
            self.assertError(r, "rate_limited")
            self.assertIsNone(session_cookie(r))
            retry = r.header("Retry-After")
            self.assertIsNotNone(retry, "429 carries Retry-After: %r" % r.headers)
            self.assertTrue(retry.isdigit() and 0 < int(retry) <= 15 * 60, retry)
            # The same address is limited for any name.
            self.assertError(a.login("bystander", SUPPORT_PW), "rate_limited")
            # Failures are stored: a restart (or another node) still refuses.
            if harness.backend() == "postgresql":
                other = Server(name="console-ratelimit-b", database=srv.database)
                harness.start_or_dump(other)
                self.assertError(Api(other).login("victim", ADMIN_PW), "rate_limited")
            srv.stop()
            srv.start()
            self.assertError(Api(srv).login("victim", ADMIN_PW), "rate_limited")
        finally:
            if other is not None:
                other.close()
            srv.close()


# ======================================================================================================= CSRF

class CsrfTests(ConsoleCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-csrf")
        harness.start_or_dump(cls.srv)
        cls.admin = new_world(cls.srv)
        cls.m = cls.srv.new_merchant(name=unique("csrf-m"))
        cls.mid = merchant_id_of(cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def merchant(self):
        return self.admin.ok(self.admin.get("/merchants/%d" % self.mid))["merchant"]

    def test_changes_without_the_token_are_refused_and_change_nothing(self):
        before = self.merchant()
        other = logged_in(self.srv, "root-admin", ADMIN_PW)
        attempts = [
            ("POST", "/users", {"name": "csrf-victim", "role": "admin", "password": "csrf-password-1"}),
            ("PATCH", "/merchants/%d" % self.mid, {"name": "renamed by csrf", "ip_allowlist": ["10.9.9.9"]}),
            ("PUT", "/merchants/%d/channels/1" % self.mid, {"enabled": True, "fee_rate_permille": 999}),
            ("PUT", "/merchants/%d/products/JDE" % self.mid, {"enabled": False}),
            ("POST", "/merchants/%d/rotate-keys" % self.mid, {}),
            ("POST", "/merchants", {"name": "csrf merchant"}),
            ("POST", "/me/password", {"current_password": ADMIN_PW, "new_password": "csrf-new-password"}),
        ]
        for method, path, body in attempts:
            for token in (False, "", "wrong-token", other.csrf):
                r = self.admin.request(method, path, body, csrf=token)
                self.assertError(r, "csrf")
        self.assertEqual(self.merchant(), before)
        self.assertNotIn("csrf-victim", [u["name"] for u in self.admin.ok(self.admin.get("/users"))["items"]])
        names = [m["name"] for m in self.admin.all_items("/merchants")]
        self.assertNotIn("csrf merchant", names)
        detail = self.admin.ok(self.admin.get("/merchants/%d" % self.mid))
        ch1 = [c for c in detail["channels"] if c["channel_id"] == 1][0]
        self.assertNotEqual(ch1["fee_rate_permille"], 999)
        self.assertTrue([p for p in detail["products"] if p["code"] == "JDE"][0]["enabled"])
        self.assertEqual(Api(self.srv).login("root-admin", ADMIN_PW).status, 200, "password unchanged")
        self.assertEqual(self.admin.audit(actor="root-admin", action="merchant.update"), [])
        # The protocols still take the old keys.
        c = ConsignClient(self.srv, self.m)
        harness.assert_submit_ok(self, c.submit())

    def test_get_needs_no_token_and_the_right_token_works(self):
        self.assertEqual(self.admin.request("GET", "/merchants/%d" % self.mid, csrf=False).status, 200)
        r = self.admin.patch("/merchants/%d" % self.mid, {"settlement_delay_days": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["settlement_delay_days"], 1)


# ====================================================================================================== roles

class RoleTests(ConsoleCase):
    """admin, support, and merchant users of two merchants A and B, with orders of every kind."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-roles")
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.admin = new_world(cls.srv)
        cls.ma = cls.srv.new_merchant(name=unique("商户A"))
        cls.mb = cls.srv.new_merchant(name=unique("商户B"))
        cls.a_id, cls.b_id = merchant_id_of(cls.ma), merchant_id_of(cls.mb)
        for m in (cls.ma, cls.mb):
            cls.srv.enable_channel(m["id"], 1, fee_rate="0")
            cls.srv.enable_channel(m["id"], 3, fee_rate="0")
        make_user(cls.admin, "support-1", "support", SUPPORT_PW)
        make_user(cls.admin, "merchant-a", "merchant", MERCHANT_PW, cls.a_id)
        make_user(cls.admin, "merchant-b", "merchant", MERCHANT_PW, cls.b_id)
        cls.support = logged_in(cls.srv, "support-1", SUPPORT_PW)
        cls.mera = logged_in(cls.srv, "merchant-a", MERCHANT_PW)
        cls.merb = logged_in(cls.srv, "merchant-b", MERCHANT_PW)
        # Orders: a paid pay-in each (notified to the receiver), a consign review each, a payout awaiting approval.
        cls.orders = {}
        for tag, m in (("a", cls.ma), ("b", cls.mb)):
            g = GatewayClient(cls.srv, m)
            key = unique("roles-" + tag)
            f = g.pay_in_fields(amount="12.34", callback_url=cls.rx.url(key))
            r = g.create(f)
            pid = harness.payment_id_of(r.json["payUrl"])
            g.complete(pid)
            cls.rx.wait_count(key, 1)
            c = ConsignClient(cls.srv, m)
            sub = c.submit(password="HOLD-" + unique(), notify_url=cls.rx.url(key + "-c"))
            sid = sub.json["sysOrderId"]
            cls.orders[tag] = {"payin": pid, "payin_mrn": f["mrn"], "payin_key": key, "review": sid,
                               "review_oid": sub.fields["orderId"]}
        cls.srv.cli("merchant", "set-payout", cls.ma["id"], "--manual-approval", "on")
        g = GatewayClient(cls.srv, cls.ma)
        g.fund(unittest.TestCase(), 50000, channel=3)
        pf = g.payout_fields(amount="100")
        assert g.payout(pf).json["error"] == "success"
        cls.orders["a"]["payout_mrn"] = pf["mrn"]
        cls.orders["a"]["payout"] = cls.admin.find_order(pf["mrn"])["id"]
        for tag in ("a", "b"):
            wait_until(lambda: cls.admin.order(cls.orders[tag]["review"])["order"]["status"] == "review", 10, 0.05,
                       "the HOLD card to wait for review")

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    # -- support

    def test_support_may_not_change_merchants_keys_payouts_users_or_read_the_audit(self):
        s, a = self.support, self.a_id
        refused = [
            s.post("/merchants", {"name": "by support"}),
            s.patch("/merchants/%d" % a, {"name": "by support"}),
            s.patch("/merchants/%d" % a, {"payout_fee_fen": 1}),
            s.put("/merchants/%d/channels/2" % a, {"enabled": True, "fee_rate_permille": 10}),
            s.put("/merchants/%d/products/ZSH" % a, {"enabled": True}),
            s.post("/merchants/%d/rotate-keys" % a),
            s.post("/orders/%s/approve" % self.orders["a"]["payout"]),
            s.post("/orders/%s/reject" % self.orders["a"]["payout"], {"message": "no"}),
            s.get("/users"),
            s.post("/users", {"name": "by-support", "role": "admin", "password": "support-made-1"}),
            s.post("/users/%d/disable" % self.admin.user["id"]),
            s.post("/users/%d/password" % self.admin.user["id"], {"password": "support-set-pw-1"}),
            s.get("/audit"),
        ]
        for r in refused:
            self.assertError(r, "forbidden")
        self.assertEqual(self.admin.order(self.orders["a"]["payout"])["order"]["status"], "approval")
        self.assertEqual(self.admin.ok(self.admin.get("/merchants/%d" % a))["merchant"]["name"], self.ma["name"])
        g = GatewayClient(self.srv, self.ma)
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True, "keys not rotated")

    def test_support_sees_everything(self):
        ids = {o["merchant_id"] for o in self.support.all_items("/orders")}
        self.assertTrue({self.a_id, self.b_id} <= ids, ids)
        self.assertEqual(self.support.get("/merchants/%d" % self.b_id).status, 200)
        self.assertEqual(self.support.get("/statement", merchant_id=self.b_id).status, 200)
        self.assertEqual(self.support.get("/dashboard").status, 200)
        self.assertEqual(self.support.get("/reconciliation", date=today_local()).status, 200)
        detail = self.support.order(self.orders["a"]["payout"])
        self.assertNotIn("approve", detail["actions"])
        self.assertNotIn("reject", detail["actions"])
        self.assertIn("approve", self.admin.order(self.orders["a"]["payout"])["actions"])

    def test_support_may_resend_and_resolve_a_review(self):
        o = self.orders["b"]
        wait_delivered(self.admin, o["payin"])
        r = self.support.post("/orders/%s/resend" % o["payin"])
        self.assertEqual(r.status, 202, r)
        self.assertIsNotNone(r.json["notification_id"])
        self.rx.wait_count(o["payin_key"], 2)
        self.assertIn("resolve", self.support.order(o["review"])["actions"])
        d = self.support.ok(self.support.post("/orders/%s/resolve" % o["review"],
                                              {"result": "fail", "message": "card already used"}))
        self.assertEqual(d["order"]["status"], "failed")
        q = ConsignClient(self.srv, self.mb).query_one(o["review_oid"])
        self.assertEqual((q["status"], q["message"]), ("3", "card already used"))
        e = self.audit_entry(self.admin, "order.resolve", o["review"])
        self.assertEqual((e["actor_name"], e["actor_role"], e["target_type"]), ("support-1", "support", "order"))
        e = self.audit_entry(self.admin, "order.resend", o["payin"])
        self.assertEqual((e["actor_name"], e["actor_role"]), ("support-1", "support"))

    # -- merchant users

    def test_merchant_gets_403_on_operator_endpoints(self):
        m, a = self.mera, self.a_id
        refused = [
            m.get("/users"), m.post("/users", {"name": "by-merchant", "role": "admin", "password": "merchant-made-1"}),
            m.post("/users/%d/disable" % self.admin.user["id"]),
            m.get("/audit"),
            m.post("/merchants", {"name": "by merchant"}),
            m.patch("/merchants/%d" % a, {"payout_manual_approval": False}),
            m.patch("/merchants/%d" % a, {"ip_allowlist": []}),
            m.put("/merchants/%d/channels/2" % a, {"enabled": True, "fee_rate_permille": 0}),
            m.put("/merchants/%d/products/ZSH" % a, {"enabled": True}),
            m.post("/merchants/%d/rotate-keys" % a),
            m.post("/orders/%s/approve" % self.orders["a"]["payout"]),
            m.post("/orders/%s/reject" % self.orders["a"]["payout"]),
            m.post("/orders/%s/resolve" % self.orders["a"]["review"], {"result": "success", "real_money_yuan": 100}),
        ]
        for r in refused:
            self.assertError(r, "forbidden")
        self.assertEqual(self.admin.order(self.orders["a"]["review"])["order"]["status"], "review")
        self.assertEqual(self.admin.order(self.orders["a"]["payout"])["order"]["status"], "approval")

    def test_merchant_gets_404_for_another_merchants_objects(self):
        m, b = self.mera, self.orders["b"]
        for r in (m.get("/orders/%s" % b["payin"]), m.get("/orders/%s" % b["review"]),
                  m.post("/orders/%s/resend" % b["payin"]),
                  m.get("/merchants/%d" % self.b_id),
                  m.get("/statement", merchant_id=self.b_id),
                  m.get("/statement.csv", merchant_id=self.b_id)):
            self.assertError(r, "not_found")
        # The same answer as for an id that does not exist.
        self.assertError(m.get("/orders/P0000000000000nothing"), "not_found")
        self.assertEqual(len(self.rx.for_key(b["payin_key"])) >= 1, True)

    def test_merchant_sees_only_its_own_orders_in_search_and_csv(self):
        m = self.mera
        mine = m.all_items("/orders")
        self.assertTrue(mine)
        self.assertEqual({o["merchant_id"] for o in mine}, {self.a_id})
        self.assertIn(self.orders["a"]["payin"], [o["id"] for o in mine])
        b = self.orders["b"]
        for q in (b["payin"], b["payin_mrn"], b["review"], b["review_oid"]):
            self.assertEqual(self.assertList(m.ok(m.get("/orders", q=q))), [], q)
        r = m.get("/orders", merchant_id=self.b_id)
        if r.status == 200:
            self.assertEqual([o for o in r.json["items"] if o["merchant_id"] != self.a_id], [])
        else:
            self.assertError(r, "not_found")
        header, rows = parse_csv(self, m.get("/orders.csv"))
        text = m.get("/orders.csv").text
        self.assertEqual(len(rows), len(mine))
        for s in (b["payin"], b["payin_mrn"], b["review"], self.mb["name"]):
            self.assertNotIn(s, text)
        self.assertIn(self.orders["a"]["payin_mrn"], text)
        # Balances and dashboard: its own only.
        bal = m.ok(m.get("/balances"))
        self.assertEqual({x["merchant_id"] for x in bal["items"]}, {self.a_id})
        self.assertNotIn("platform", bal)
        dash_own = m.ok(m.get("/dashboard", days=2))
        dash_other = m.ok(m.get("/dashboard", days=2, merchant_id=self.b_id))
        self.assertEqual(dash_other, dash_own, "a merchant's dashboard is always its own")

    def test_merchant_sees_its_merchant_with_fingerprints_never_keys(self):
        m = self.mera
        d = m.ok(m.get("/merchants/%d" % self.a_id))
        self.assertEqual(set(d["merchant"].keys()), MERCHANT_FIELDS)
        self.assertTrue(d["merchant"]["key_fingerprint"])
        for secret in (self.ma["key"], self.ma["aesKey"]):
            self.assertNotIn(secret, json.dumps(d, ensure_ascii=False))
        r = m.get("/merchants")
        if r.status == 200:
            self.assertEqual({x["id"] for x in r.json["items"]}, {self.a_id})
        else:
            self.assertError(r, "forbidden")

    def test_merchant_may_resend_its_own_notification(self):
        o = self.orders["a"]
        wait_delivered(self.admin, o["payin"])
        before = len(self.rx.for_key(o["payin_key"]))
        self.assertIn("resend", self.mera.order(o["payin"])["actions"])
        self.assertNotIn("resolve", self.mera.order(o["review"])["actions"])
        r = self.mera.post("/orders/%s/resend" % o["payin"])
        self.assertEqual(r.status, 202, r)
        self.rx.wait_count(o["payin_key"], before + 1)
        e = self.audit_entry(self.admin, "order.resend", o["payin"], actor="merchant-a")
        self.assertEqual(e["actor_role"], "merchant")

    def test_notification_log_is_the_merchants_own_and_filters_by_state(self):
        a, b = self.orders["a"], self.orders["b"]
        for oid in (a["payin"], b["payin"]):
            wait_delivered(self.admin, oid)
        m = self.mera
        mine = m.all_items("/notifications")
        self.assertTrue(mine)
        self.assertEqual({n["merchant_id"] for n in mine}, {self.a_id})
        self.assertIn(a["payin"], [n["order_id"] for n in mine])
        self.assertNotIn(b["payin"], [n["order_id"] for n in mine])
        # Another merchant's id or order: nothing of it.
        self.assertEqual(self.assertList(m.ok(m.get("/notifications", merchant_id=self.b_id))), [])
        self.assertEqual(self.assertList(m.ok(m.get("/notifications", order=b["payin"]))), [])
        # An admin sees both merchants' and filters by state, protocol, merchant and order.
        delivered = self.admin.all_items("/notifications", state="delivered")
        self.assertEqual({n["state"] for n in delivered}, {"delivered"})
        ids = [n["id"] for n in delivered]
        self.assertEqual(ids, sorted(ids, reverse=True), "newest first")
        self.assertTrue({a["payin"], b["payin"]} <= {n["order_id"] for n in delivered})
        row = next(n for n in delivered if n["order_id"] == a["payin"])
        self.assertEqual(set(row.keys()), {"id", "merchant_id", "protocol", "order_id", "url", "state",
                                           "attempts_made", "attempts_max", "next_attempt_at_ms", "created_at_ms",
                                           "updated_at_ms", "last_attempt"})
        self.assertEqual((row["protocol"], row["merchant_id"]), ("gateway", self.a_id))
        self.assertEqual(set(row["last_attempt"].keys()), {"attempt_no", "started_at_ms", "latency_ms",
                                                           "http_status", "error", "body_excerpt", "delivered"})
        self.assertTrue(row["last_attempt"]["delivered"])
        self.assertEqual(row["last_attempt"]["http_status"], 200)
        for n in self.admin.all_items("/notifications", state="pending"):
            self.assertEqual(n["state"], "pending")
            self.assertNotIn(n["id"], ids)
        only_b = self.admin.all_items("/notifications", merchant_id=self.b_id, protocol="gateway")
        self.assertEqual({(n["merchant_id"], n["protocol"]) for n in only_b}, {(self.b_id, "gateway")})
        by_order = self.admin.all_items("/notifications", order=a["payin"])
        self.assertEqual({n["order_id"] for n in by_order}, {a["payin"]})
        # Pages of one, through the cursor.
        first = self.admin.ok(self.admin.get("/notifications", limit=1))
        self.assertEqual(len(first["items"]), 1)
        self.assertTrue(first["next_cursor"])
        second = self.admin.ok(self.admin.get("/notifications", limit=1, cursor=first["next_cursor"]))
        self.assertLess(second["items"][0]["id"], first["items"][0]["id"])
        for q in ({"cursor": "not-a-cursor"}, {"state": "sent"}, {"protocol": "payout"}, {"limit": 0},
                  {"limit": 201}):
            self.assertError(self.admin.get("/notifications", **q), "bad_request")


# ===================================================================================== actions and their audit

class ActionAuditTests(ConsoleCase):
    """Each action through the API, its effect through the protocols (or the API), its audit entry. At most two
    failed logins on this server."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-actions", payout_delay_ms=100)
        harness.start_or_dump(cls.srv)
        cls.srv.add_catalogue()
        cls.rx = Receiver().start()
        cls.crx = Receiver(default="0000").start()
        cls.admin = new_world(cls.srv)
        cls.t0 = now_ms()

    @classmethod
    def tearDownClass(cls):
        cls.crx.close()
        cls.rx.close()
        cls.srv.close()

    def new_merchant(self, name=None):
        """A merchant made through the API; (merchant, keys as the protocol clients want them)."""
        name = name or unique("控制台商户")
        r = self.admin.post("/merchants", {"name": name})
        body = self.admin.ok(r, 201)
        self.assertEqual(set(body.keys()), {"merchant", "keys"})
        self.assertEqual(set(body["keys"].keys()), {"appKey", "key", "aesKey"})
        m = body["merchant"]
        self.assertEqual(set(m.keys()), MERCHANT_FIELDS)
        keys = {"id": m["id"], "appKey": body["keys"]["appKey"], "key": body["keys"]["key"],
                "aesKey": body["keys"]["aesKey"], "name": name}
        return m, keys

    def set_channel(self, mid, channel, permille, **kw):
        body = {"enabled": True, "fee_rate_permille": permille}
        body.update(kw)
        return self.admin.ok(self.admin.put("/merchants/%d/channels/%d" % (mid, channel), body))

    # -- users

    def test_users_create_disable_enable_password(self):
        name = unique("support-")
        u = make_user(self.admin, name, "support", SUPPORT_PW)
        self.assertUser(u, name=name, role="support")
        self.assertTrue(u["enabled"])
        listed = self.admin.ok(self.admin.get("/users", role="support"))["items"]
        self.assertIn(u["id"], [x["id"] for x in listed])
        self.assertEqual({x["role"] for x in listed}, {"support"})
        e = self.audit_entry(self.admin, "user.create", u["id"])
        self.assertEqual((e["actor_name"], e["actor_role"], e["target_type"]), ("root-admin", "admin", "user"))
        self.assertEqual((e["after"].get("name"), e["after"].get("role")), (name, "support"), e)
        self.assertEqual(e["before"], {})
        self.assertEqual(e["remote_ip"], "127.0.0.1")
        self.assertTrue(e["request_id"])

        s = logged_in(self.srv, name, SUPPORT_PW)
        d = self.admin.ok(self.admin.post("/users/%d/disable" % u["id"]))
        self.assertUser(d, name=name)
        self.assertFalse(d["enabled"])
        self.assertError(s.get("/me"), "unauthenticated")     # disabling ends its sessions
        refused = Api(self.srv).login(name, SUPPORT_PW)          # failed login 1 of 3
        self.assertError(refused, "bad_credentials")
        self.assertIsNone(session_cookie(refused))
        e = self.audit_entry(self.admin, "user.disable", u["id"])
        self.assertEqual((e["before"].get("enabled"), e["after"].get("enabled")), (True, False), e)

        self.assertTrue(self.admin.ok(self.admin.post("/users/%d/enable" % u["id"]))["enabled"])
        s = logged_in(self.srv, name, SUPPORT_PW)
        e = self.audit_entry(self.admin, "user.enable", u["id"])
        self.assertEqual((e["before"].get("enabled"), e["after"].get("enabled")), (False, True), e)

        r = self.admin.post("/users/%d/password" % u["id"], {"password": "a-new-password-42"})
        self.assertEqual(r.status, 204, r)
        self.assertError(s.get("/me"), "unauthenticated")     # a new password ends its sessions
        self.assertError(Api(self.srv).login(name, SUPPORT_PW), "bad_credentials")   # failed login 2 of 3
        logged_in(self.srv, name, "a-new-password-42")
        e = self.audit_entry(self.admin, "user.password", u["id"])
        self.assertEqual(e["after"].get("password"), "changed", e)
        self.assertEqual(e["after"].get("sessions_ended"), 1, e)
        # a user cannot disable itself
        self.assertError(self.admin.post("/users/%d/disable" % self.admin.user["id"]), "conflict")
        self.assertEqual(self.admin.get("/me").status, 200)
        # logins are audited too
        e = self.audit_entry(self.admin, "session.login", u["id"])
        self.assertEqual((e["actor_name"], e["target_type"]), (name, "user"), e)
        text = json.dumps(self.admin.audit(), ensure_ascii=False)
        for secret in (SUPPORT_PW, "a-new-password-42", "$argon2"):
            self.assertNotIn(secret, text, "no password or hash in the audit log")

    def test_own_password_change(self):
        name = unique("self-")
        make_user(self.admin, name, "support", SUPPORT_PW)
        me = logged_in(self.srv, name, SUPPORT_PW)
        other = logged_in(self.srv, name, SUPPORT_PW)
        short = me.post("/me/password", {"current_password": SUPPORT_PW, "new_password": "short"})
        self.assertError(short, "bad_request")
        wrong = me.post("/me/password", {"current_password": "not-my-password", "new_password": "whatever-new-pw"})
        self.assertError(wrong, "bad_request")      # failed login 3 of 3 (it counts as one for the name)
        self.assertEqual(me.get("/me").status, 200, "a wrong current password leaves the session")
        r = me.post("/me/password", {"current_password": SUPPORT_PW, "new_password": "my-own-new-password"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(me.get("/me").status, 200, "the session that changed it goes on")
        self.assertError(other.get("/me"), "unauthenticated")
        logged_in(self.srv, name, "my-own-new-password")
        e = self.audit_entry(self.admin, "user.password", me.user["id"])
        self.assertEqual((e["actor_name"], e["after"].get("password")), (name, "changed"), e)

    def test_merchant_user_needs_a_merchant(self):
        self.assertError(self.admin.post("/users", {"name": unique("mu"), "role": "merchant",
                                                    "password": MERCHANT_PW}), "bad_request")
        r = self.admin.post("/users", {"name": unique("mu"), "role": "merchant", "password": MERCHANT_PW,
                                       "merchant_id": 987654})
        self.assertError(r, "not_found")
        self.assertError(self.admin.post("/users", {"name": unique("op"), "role": "support", "password": SUPPORT_PW,
                                                    "merchant_id": 987654}), "bad_request")
        m, _ = self.new_merchant()
        u = make_user(self.admin, unique("mu"), "merchant", MERCHANT_PW, m["id"])
        self.assertUser(u, role="merchant", merchant_id=m["id"])
        users = self.admin.ok(self.admin.get("/merchants/%d" % m["id"]))["users"]
        self.assertEqual([x["id"] for x in users], [u["id"]])
        self.assertEqual([x["id"] for x in self.admin.ok(self.admin.get("/users", merchant_id=m["id"]))["items"]],
                         [u["id"]])

    # -- merchants

    def test_merchant_create_and_update_take_effect_in_the_protocols(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.assertTrue(m["enabled"])
        self.assertEqual(m["app_key"], keys["appKey"])
        e = self.audit_entry(self.admin, "merchant.create", mid)
        self.assertEqual((e["actor_name"], e["target_type"], e["after"].get("name")),
                         ("root-admin", "merchant", keys["name"]), e)
        text = json.dumps(e, ensure_ascii=False)
        self.assertNotIn(keys["key"], text)
        self.assertNotIn(keys["aesKey"], text)
        ch = self.set_channel(mid, 1, 0)
        self.assertEqual((ch["channel_id"], ch["enabled"], ch["fee_rate_permille"]), (1, True, 0))
        g = GatewayClient(self.srv, keys)
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True, "the API's keys work")

        # update: name, and disabled merchants are refused by the protocols
        r = self.admin.patch("/merchants/%d" % mid, {"name": keys["name"] + " 改", "enabled": False})
        u = self.admin.ok(r)
        self.assertEqual(set(u.keys()), MERCHANT_FIELDS)
        self.assertEqual((u["name"], u["enabled"]), (keys["name"] + " 改", False))
        self.assertGreaterEqual(u["updated_at_ms"], m["updated_at_ms"])
        refused = g.create(g.pay_in_fields()).json
        self.assertEqual(refused["success"], False, refused)
        e = self.audit_entry(self.admin, "merchant.update", mid)
        self.assertEqual((e["before"].get("name"), e["after"].get("name")), (keys["name"], keys["name"] + " 改"), e)
        self.assertEqual((e["before"].get("enabled"), e["after"].get("enabled")), (True, False), e)
        self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"enabled": True}))
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True)

    def test_ip_allowlist_is_enforced_by_the_protocols(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.set_channel(mid, 1, 0)
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (mid, harness.PRODUCT_MAIN), {"enabled": True}))
        g, c = GatewayClient(self.srv, keys), ConsignClient(self.srv, keys)
        u = self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"ip_allowlist": ["10.1.2.0/24", "2001:db8::/32"]}))
        self.assertEqual(u["ip_allowlist"], ["10.1.2.0/24", "2001:db8::/32"])
        refused = g.create(g.pay_in_fields()).json
        self.assertEqual(refused["success"], False, refused)
        self.assertIn("IP not allowed", refused["errorMsg"])
        harness.assert_submit_rejected(self, c.submit(), msg_pattern="IP not allowed")
        e = self.audit_entry(self.admin, "merchant.update", mid)
        self.assertEqual((e["before"].get("ip_allowlist"), e["after"].get("ip_allowlist")),
                         ([], ["10.1.2.0/24", "2001:db8::/32"]), e)
        self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"ip_allowlist": ["127.0.0.0/8"]}))
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True)
        harness.assert_submit_ok(self, c.submit())
        # invalid entries and too many: 400, nothing changed
        for bad in (["300.1.1.1"], ["10.0.0.0/33"], ["not an address"], ["10.0.%d.1" % i for i in range(33)], "10.0.0.1"):
            self.assertError(self.admin.patch("/merchants/%d" % mid, {"ip_allowlist": bad}), "bad_request")
        self.assertEqual(self.admin.ok(self.admin.get("/merchants/%d" % mid))["merchant"]["ip_allowlist"],
                         ["127.0.0.0/8"])
        self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"ip_allowlist": []}))
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True, "empty allows any address")

    def test_channel_set_fee_and_limits_apply_to_new_orders(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        g = GatewayClient(self.srv, keys)
        detail = self.admin.ok(self.admin.get("/merchants/%d" % mid))
        self.assertEqual(sorted(c["channel_id"] for c in detail["channels"]), list(range(1, 16)),
                         "every catalogue channel, enabled or not")
        self.assertFalse([c for c in detail["channels"] if c["enabled"]])
        self.assertEqual(g.create(g.pay_in_fields(channel=2)).json["success"], False)
        ch = self.set_channel(mid, 2, 25, min_amount_fen=100, max_amount_fen=500000)
        self.assertEqual((ch["enabled"], ch["fee_rate_permille"], ch["min_amount_fen"], ch["max_amount_fen"]),
                         (True, 25, 100, 500000))
        e = self.audit_entry(self.admin, "channel.set", "%d:2" % mid)
        self.assertEqual((e["actor_name"], e["target_type"]), ("root-admin", "channel"))
        self.assertEqual(e["before"], {"merchant_id": mid, "channel_id": 2, "enabled": False},
                         "a channel never set reads as disabled")
        self.assertEqual((e["after"].get("merchant_id"), e["after"].get("channel_id"), e["after"].get("enabled"),
                          e["after"].get("fee_rate_permille"), e["after"].get("min_amount_fen")),
                         (mid, 2, True, 25, 100), e)
        low = g.create(g.pay_in_fields(channel=2, amount="0.99")).json
        self.assertIn("below the minimum", low["errorMsg"])
        before = self.admin.balance(mid)["available_fen"]
        _, pid, _ = g.create_ok(self, channel=2, amount="100.01")
        g.complete(pid)
        fee = fee_fen(10001, "2.5")
        self.assertEqual(self.admin.balance(mid)["available_fen"] - before, 10001 - fee)
        row = self.admin.order(pid)["order"]
        self.assertEqual((row["amount_fen"], row["fee_fen"], row["settled_fen"], row["status"], row["channel"]),
                         (10001, fee, 10001 - fee, "paid", "2"))
        # disabled again: refused
        self.admin.ok(self.admin.put("/merchants/%d/channels/2" % mid, {"enabled": False, "fee_rate_permille": 25}))
        self.assertEqual(g.create(g.pay_in_fields(channel=2)).json["success"], False)
        for bad in ({"enabled": True, "fee_rate_permille": -1}, {"enabled": True, "fee_rate_permille": 1001},
                    {"enabled": "yes", "fee_rate_permille": 10}, {"enabled": True, "fee_rate_permille": "10"},
                    {"enabled": True, "fee_rate_permille": 10, "min_amount_fen": -5}):
            self.assertError(self.admin.put("/merchants/%d/channels/2" % mid, bad), "bad_request")
        self.assertError(self.admin.put("/merchants/%d/channels/16" % mid, {"enabled": True, "fee_rate_permille": 1}),
                         "not_found")

    def test_product_set(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        c = ConsignClient(self.srv, keys)
        harness.assert_submit_rejected(self, c.submit())
        row = self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (mid, harness.PRODUCT_MAIN),
                                           {"enabled": True}))
        self.assertEqual((row["code"], row["enabled"]), (harness.PRODUCT_MAIN, True))
        harness.assert_submit_ok(self, c.submit())
        e = self.audit_entry(self.admin, "product.set", "%d:%s" % (mid, harness.PRODUCT_MAIN))
        self.assertEqual(e["target_type"], "product")
        self.assertEqual(e["after"], {"merchant_id": mid, "code": harness.PRODUCT_MAIN, "enabled": True}, e)
        self.assertEqual(e["before"].get("enabled"), False, e)
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (mid, harness.PRODUCT_MAIN), {"enabled": False}))
        harness.assert_submit_rejected(self, c.submit())
        self.assertError(self.admin.put("/merchants/%d/products/NOPE" % mid, {"enabled": True}), "not_found")
        cat = self.admin.ok(self.admin.get("/catalogue"))
        self.assertIn(harness.PRODUCT_MAIN, [p["code"] for p in cat["products"]])
        self.assertEqual(len(cat["channels"]), 15)

    def test_rotate_keys_refuses_the_old_signature(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.set_channel(mid, 1, 0)
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (mid, harness.PRODUCT_MAIN), {"enabled": True}))
        old_g, old_c = GatewayClient(self.srv, keys), ConsignClient(self.srv, keys)
        self.assertEqual(old_g.create(old_g.pay_in_fields()).json["success"], True)
        r = self.admin.ok(self.admin.post("/merchants/%d/rotate-keys" % mid))
        self.assertEqual(set(r.keys()), {"merchant", "keys"})
        new = {"id": mid, "appKey": r["keys"]["appKey"], "key": r["keys"]["key"], "aesKey": r["keys"]["aesKey"]}
        self.assertNotEqual(new["key"], keys["key"])
        self.assertNotEqual(new["aesKey"], keys["aesKey"])
        self.assertEqual(r["merchant"]["keys_version"], m["keys_version"] + 1)
        self.assertNotEqual(r["merchant"]["key_fingerprint"], m["key_fingerprint"])
        # The old keys are refused by both protocols; the new ones work.
        old = old_g.create(old_g.pay_in_fields()).json
        self.assertEqual(old["success"], False, old)
        self.assertEqual(old_g.create(old_g.pay_in_fields(extra={"appKey": new["appKey"]})).json["success"], False,
                         "the old key's signature under the new appKey")
        harness.assert_submit_rejected(self, old_c.submit())
        self.assertEqual(GatewayClient(self.srv, new).create(GatewayClient(self.srv, new).pay_in_fields())
                         .json["success"], True)
        harness.assert_submit_ok(self, ConsignClient(self.srv, new).submit())
        e = self.audit_entry(self.admin, "merchant.rotate_keys", mid)
        text = json.dumps(e, ensure_ascii=False)
        for secret in (keys["key"], keys["aesKey"], new["key"], new["aesKey"]):
            self.assertNotIn(secret, text, "keys never in the audit log")
        shown = json.dumps(self.admin.ok(self.admin.get("/merchants/%d" % mid)), ensure_ascii=False)
        self.assertNotIn(new["key"], shown)

    # -- orders

    def test_resend_sends_a_new_attempt(self):
        m, keys = self.new_merchant()
        self.set_channel(m["id"], 1, 0)
        g = GatewayClient(self.srv, keys)
        key = unique("resend")
        f, pid, _ = g.create_ok(self, callback_url=self.rx.url(key))
        g.complete(pid)
        first = self.rx.wait_count(key, 1)
        wait_delivered(self.admin, pid)
        r = self.admin.post("/orders/%s/resend" % pid)
        self.assertEqual(r.status, 202, r)
        nid = r.json["notification_id"]
        recs = self.rx.wait_count(key, 2)
        self.assertEqual(recs[1]["form"], first[0]["form"], "the same signed callback again")
        d = wait_until(lambda: (lambda d: d if d["notifications"] and
                                sum(len(n["attempts"]) for n in d["notifications"]) >= 2 else None)(
            self.admin.order(pid)), 5, 0.1, "the second attempt in the order detail")
        self.assertIn(str(nid), [str(n["id"]) for n in d["notifications"]])
        n = [n for n in d["notifications"] if str(n["id"]) == str(nid)][0]
        self.assertEqual(n["state"], "delivered")
        self.assertTrue(all(a["delivered"] for a in n["attempts"][-1:]))
        self.assertEqual(n["attempts"][-1]["http_status"], 200)
        e = self.audit_entry(self.admin, "order.resend", pid)
        self.assertEqual((e["actor_name"], e["target_type"]), ("root-admin", "order"))
        self.assertTrue([t for t in d["timeline"] if t["event"]], d["timeline"])
        self.assertError(self.admin.post("/orders/Pnothing0000/resend"), "not_found")

    def test_resend_while_a_delivery_is_in_flight_still_sends_one_more(self):
        m, keys = self.new_merchant()
        self.set_channel(m["id"], 1, 0)
        g = GatewayClient(self.srv, keys)
        key = unique("inflight")
        self.rx.script(key, [("hang", 1.0, "success")], default="success")
        _, pid, _ = g.create_ok(self, callback_url=self.rx.url(key))
        g.complete(pid)
        self.rx.wait_count(key, 1)          # in flight: the receiver answers in 1 s
        self.assertEqual(self.admin.post("/orders/%s/resend" % pid).status, 202)
        self.rx.wait_count(key, 2, timeout=5)

    def test_resolve_a_review_success_credits_and_notifies(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (mid, harness.PRODUCT_MAIN), {"enabled": True}))
        c = ConsignClient(self.srv, keys)
        key = unique("review")
        sub = c.submit(password="HOLD-" + unique(), face=100, notify_url=self.rx.url(key))
        sid = harness.assert_submit_ok(self, sub)
        oid = sub.fields["orderId"]
        wait_until(lambda: self.admin.order(sid)["order"]["status"] == "review", 10, 0.05, "review")
        d = self.admin.order(sid)
        self.assertIn("resolve", d["actions"])
        self.assertEqual(c.query_one(oid)["status"], "1")
        before = self.admin.balance(mid)["available_fen"]
        for bad in ({"result": "maybe"}, {"result": "success"}, {"result": "success", "real_money_yuan": -1},
                    {"result": "success", "real_money_yuan": "80"}):
            self.assertError(self.admin.post("/orders/%s/resolve" % sid, bad), "bad_request")
        d = self.admin.ok(self.admin.post("/orders/%s/resolve" % sid, {"result": "success", "real_money_yuan": 80}))
        self.assertEqual(d["order"]["status"], "success")
        self.assertNotIn("resolve", d["actions"])
        self.assertIn("order.resolve", [t["event"] for t in d["timeline"]], d["timeline"])
        self.assertEqual(d["order"]["fee_fen"], 8000 - 7720, "consign fee: the real value less the credit")
        q = c.query_one(oid)
        self.assertEqual((q["status"], q["realMoney"], str(q["amount"])), ("2", 80, "77.20"))
        self.assertEqual(self.admin.balance(mid)["available_fen"] - before, 7720)
        self.assertEqual(d["order"]["settled_fen"], 7720)
        self.assertTrue(d["postings"], d)
        self.assertEqual(sum(p["amount_fen"] for p in d["postings"] if p["amount_fen"] > 0) >= 7720, True, d)
        n = self.rx.wait_count(key, 1)[0]["form"]
        self.assertEqual((n["status"], n["realMoney"], n["orderId"]), ("2", "80", oid))
        e = self.audit_entry(self.admin, "order.resolve", sid)
        self.assertEqual((e["target_type"], e["before"].get("status"), e["after"].get("status")),
                         ("order", "review", "success"), e)
        self.assertError(self.admin.post("/orders/%s/resolve" % sid, {"result": "fail", "message": "late"}),
                         "conflict")
        self.assertEqual(self.admin.balance(mid)["available_fen"] - before, 7720)

    def test_resolve_a_review_as_failed(self):
        m, keys = self.new_merchant()
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (m["id"], harness.PRODUCT_MAIN), {"enabled": True}))
        c = ConsignClient(self.srv, keys)
        sub = c.submit(password="HOLD-" + unique())
        sid = harness.assert_submit_ok(self, sub)
        wait_until(lambda: self.admin.order(sid)["order"]["status"] == "review", 10, 0.05, "review")
        d = self.admin.ok(self.admin.post("/orders/%s/resolve" % sid, {"result": "fail", "message": "卡密已使用"}))
        self.assertEqual(d["order"]["status"], "failed")
        q = c.query_one(sub.fields["orderId"])
        self.assertEqual((q["status"], q["message"]), ("3", "卡密已使用"))
        self.assertEqual(self.admin.balance(m["id"])["available_fen"], 0)
        e = self.audit_entry(self.admin, "order.resolve", sid)
        self.assertEqual(e["after"].get("status"), "failed", e)

    def test_resolve_as_failed_needs_a_message(self):
        m, keys = self.new_merchant()
        self.admin.ok(self.admin.put("/merchants/%d/products/%s" % (m["id"], harness.PRODUCT_MAIN), {"enabled": True}))
        sid = harness.assert_submit_ok(self, ConsignClient(self.srv, keys).submit(password="HOLD-" + unique()))
        wait_until(lambda: self.admin.order(sid)["order"]["status"] == "review", 10, 0.05, "review")
        self.assertError(self.admin.post("/orders/%s/resolve" % sid, {"result": "fail"}), "bad_request")
        self.assertError(self.admin.post("/orders/%s/resolve" % sid, {"result": "fail", "message": 7}), "bad_request")
        self.assertEqual(self.admin.order(sid)["order"]["status"], "review")

    def test_hold_and_release_move_the_cashier_money(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.set_channel(mid, 1, 10)     # WeiXin at 1.0%
        self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"settlement_delay_days": 2}))
        c = CashierClient(self.srv, keys)
        k1, k2 = unique("hold1"), unique("hold2")
        _, q1 = c.pay_ok(self, txnamt=10000, backurl=self.crx.url(k1))
        _, q2 = c.pay_ok(self, txnamt=20000, backurl=self.crx.url(k2))
        self.assertEqual(c.complete(q1, "success").json["resultcode"], "1002")
        self.assertEqual(c.complete(q2, "success").json["resultcode"], "1002")
        b = self.admin.balance(mid)
        self.assertEqual((b["available_fen"], b["pending_fen"], b["frozen_fen"]), (0, 9900 + 19800, 0))
        self.assertIn("hold", self.admin.order(q1)["actions"])
        d = self.admin.ok(self.admin.post("/orders/%s/hold" % q1))
        self.assertEqual(d["order"]["status"], "held")
        self.assertIn("release", d["actions"])
        self.admin.ok(self.admin.post("/orders/%s/hold" % q2))
        b = self.admin.balance(mid)
        self.assertEqual((b["available_fen"], b["pending_fen"], b["frozen_fen"]), (0, 0, 9900 + 19800))
        self.assertEqual(c.query_answer(queryid=q1)["resultcode"], "1004")
        self.assertEqual([harness.back_notify_of(r, keys["key"])["resultcode"] for r in self.crx.wait_count(k1, 2)],
                         ["1002", "1004"])
        e = self.audit_entry(self.admin, "order.hold", q1)
        self.assertEqual((e["target_type"], e["before"].get("status"), e["after"].get("status")),
                         ("order", "pending", "held"), e)
        self.assertError(self.admin.post("/orders/%s/hold" % q1), "conflict")
        self.assertError(self.admin.post("/orders/%s/release" % q1, {"to": "nobody"}), "bad_request")

        d = self.admin.ok(self.admin.post("/orders/%s/release" % q1, {"to": "merchant"}))
        self.assertEqual(d["order"]["status"], "paid")
        self.admin.ok(self.admin.post("/orders/%s/release" % q2, {"to": "payer"}))
        b = self.admin.balance(mid)
        self.assertEqual((b["available_fen"], b["pending_fen"], b["frozen_fen"]), (9900, 0, 0),
                         "released to available; the other returned to the payer")
        self.assertEqual(c.query_answer(queryid=q1)["resultcode"], "0000")
        self.assertEqual(c.query_answer(queryid=q2)["resultcode"], "1003")
        e = self.audit_entry(self.admin, "order.release", q1)
        self.assertEqual((e["before"].get("status"), e["after"].get("status")), ("held", "paid"), e)
        e2 = self.audit_entry(self.admin, "order.release", q2)
        self.assertEqual(e2["after"].get("status"), "failed", e2)
        self.assertError(self.admin.post("/orders/%s/release" % q1, {"to": "merchant"}), "conflict")

    def test_approve_and_reject_payouts(self):
        m, keys = self.new_merchant()
        mid = m["id"]
        self.set_channel(mid, 3, 0)
        u = self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"payout_manual_approval": True,
                                                                   "payout_fee_fen": 200}))
        self.assertEqual((u["payout_manual_approval"], u["payout_fee_fen"]), (True, 200))
        e = self.audit_entry(self.admin, "merchant.update", mid)
        self.assertEqual((e["before"].get("payout_fee_fen"), e["after"].get("payout_fee_fen")), (0, 200), e)
        g = GatewayClient(self.srv, keys)
        g.fund(self, 60000, channel=3)
        k1, k2 = unique("approve"), unique("reject")
        f1 = g.payout_fields(amount="100", callback_url=self.rx.url(k1))
        f2 = g.payout_fields(amount="200", callback_url=self.rx.url(k2))
        self.assertEqual(g.payout(f1).json["error"], "success")
        self.assertEqual(g.payout(f2).json["error"], "success")
        w1, w2 = self.admin.find_order(f1["mrn"]), self.admin.find_order(f2["mrn"])
        self.assertEqual((w1["kind"], w1["protocol"], w1["status"], w1["amount_fen"]),
                         ("payout", "gateway", "approval", 10000))
        b = self.admin.balance(mid)
        self.assertEqual((b["available_fen"], b["payout_reserved_fen"]), (60000 - 10200 - 20200, 10200 + 20200))
        d = self.admin.order(w1["id"])
        self.assertEqual(set(d["actions"]) & {"approve", "reject"}, {"approve", "reject"})
        self.assertNotIn("6222020000001234", json.dumps(d, ensure_ascii=False), "the account number is masked")

        d = self.admin.ok(self.admin.post("/orders/%s/approve" % w1["id"]))
        self.assertIn(d["order"]["status"], ("processing", "paid"))
        self.rx.wait_count(k1, 1)
        wait_until(lambda: g.query(f1["mrn"], kind="Payouts").json["result"]["status"] == 1, 5, 0.05, "paid")
        self.assertEqual(self.admin.order(w1["id"])["order"]["status"], "paid")
        e = self.audit_entry(self.admin, "payout.approve", w1["id"])
        self.assertEqual((e["actor_name"], e["target_type"], e["before"].get("status")),
                         ("root-admin", "order", "approval"), e)
        self.assertEqual((e["before"].get("kind"), e["before"].get("merchant_id"), e["before"].get("amount_fen")),
                         ("payout", mid, 10000), e)

        d = self.admin.ok(self.admin.post("/orders/%s/reject" % w2["id"], {"message": "name mismatch"}))
        self.assertEqual(d["order"]["status"], "rejected")
        self.assertEqual(g.query(f2["mrn"], kind="Payouts").json["result"]["status"], 2)
        b = self.admin.balance(mid)
        self.assertEqual((b["available_fen"], b["payout_reserved_fen"]), (60000 - 10200, 0))
        e = self.audit_entry(self.admin, "payout.reject", w2["id"])
        self.assertEqual((e["before"].get("status"), e["after"].get("status")), ("approval", "rejected"), e)
        self.assertError(self.admin.post("/orders/%s/approve" % w2["id"]), "conflict")
        self.assertEqual(self.rx.for_key(k2), [])

    def test_zz_ledger_check_passes_at_the_end(self):
        self.assertTrue(self.srv.ledger_ok()["ok"])

    # -- the audit log itself

    def test_audit_filters_and_pages(self):
        m, _ = self.new_merchant()
        mid = m["id"]
        names = []
        for i in range(3):
            names.append("%s-%d" % (m["name"], i))
            self.admin.ok(self.admin.patch("/merchants/%d" % mid, {"name": names[-1]}))
        by_target = self.admin.audit(target_type="merchant", target_id=mid)
        self.assertEqual([e["action"] for e in by_target], ["merchant.update"] * 3 + ["merchant.create"],
                         "newest first")
        self.assertEqual([e["after"]["name"] for e in by_target[:3]], names[::-1])
        self.assertEqual({e["target_id"] for e in by_target}, {str(mid)})
        ats = [e["at_ms"] for e in by_target]
        self.assertEqual(ats, sorted(ats, reverse=True))
        self.assertTrue(all(e["action"] == "merchant.update"
                            for e in self.admin.audit(action="merchant.update")))
        self.assertTrue(all(e["actor_name"] == "root-admin" for e in self.admin.audit(actor="root-admin")))
        self.assertEqual(self.admin.audit(actor="nobody-at-all"), [])
        # time range
        mid_ms = by_target[1]["at_ms"]
        newer = self.admin.audit(target_type="merchant", target_id=mid, from_ms=mid_ms)
        self.assertTrue(all(e["at_ms"] >= mid_ms for e in newer) and len(newer) >= 2, newer)
        older = self.admin.audit(target_type="merchant", target_id=mid, to_ms=mid_ms - 1)
        self.assertTrue(all(e["at_ms"] < mid_ms for e in older), older)
        self.assertEqual(self.admin.audit(target_type="merchant", target_id=mid, from_ms=now_ms() + 3_600_000), [])
        # pages of one
        seen, cursor = [], None
        for _ in range(10):
            page = self.admin.ok(self.admin.get("/audit", target_type="merchant", target_id=mid, limit=1,
                                                cursor=cursor))
            self.assertLessEqual(len(page["items"]), 1)
            seen += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, [e["id"] for e in by_target])
        self.assertError(self.admin.get("/audit", cursor="!!not-a-cursor!!"), "bad_request")
        self.assertError(self.admin.get("/audit", from_ms="yesterday"), "bad_request")


# ========================================================================================= money and exports

class MoneyTests(ConsoleCase):
    """Real activity on two merchants, then the order list and its CSV, balances, the statement and its running
    balance, the reconciliation, the ledger check."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-money", payout_delay_ms=0)
        harness.start_or_dump(cls.srv)
        cls.admin = new_world(cls.srv)
        cls.m = cls.srv.new_merchant(name=unique("对账商户"))
        cls.other_name = "=HYPERLINK(\"x\")" + unique("o")
        cls.other = cls.srv.new_merchant(name=cls.other_name)
        cls.mid = merchant_id_of(cls.m)
        for m in (cls.m, cls.other):
            cls.srv.enable_channel(m["id"], 1, fee_rate="0")
            cls.srv.enable_channel(m["id"], 2, fee_rate="2.5")
        cls.srv.cli("merchant", "set-payout", cls.m["id"], "--fee", "1.50")
        g = GatewayClient(cls.srv, cls.m)
        cls.payins = []
        for amount in ("123.45", "10.00", "0.20"):
            r = g.create(g.pay_in_fields(amount=amount, channel=2))
            pid = harness.payment_id_of(r.json["payUrl"])
            g.complete(pid)
            cls.payins.append((pid, amount))
        r = g.create(g.pay_in_fields(amount="5.00", channel=1))
        cls.unpaid = harness.payment_id_of(r.json["payUrl"])
        c = ConsignClient(cls.srv, cls.m)
        cls.card = c.submit(face=100, password="REAL50-" + unique())
        cls.card_id = cls.card.json["sysOrderId"]
        cls.po = g.payout_fields(amount="20")
        assert g.payout(cls.po).json["error"] == "success"
        go = GatewayClient(cls.srv, cls.other)
        r = go.create(go.pay_in_fields(amount="77.77", channel=1))
        go.complete(harness.payment_id_of(r.json["payUrl"]))
        wait_until(lambda: cls.admin.order(cls.card_id)["order"]["status"] == "success", 10, 0.05, "card redeemed")
        wait_until(lambda: cls.admin.find_order(cls.po["mrn"])["status"] == "paid", 10, 0.05, "payout paid")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def expected_available(self):
        gross = sum(int(round(float(a) * 100)) for _, a in self.payins)
        fees = sum(fee_fen(int(round(float(a) * 100)), "2.5") for _, a in self.payins)
        return gross - fees + harness.amount_fen(50, "96.5") - 2000 - 150

    def test_order_list_search_filters_and_pages(self):
        a = self.admin
        mine = a.all_items("/orders", merchant_id=self.mid)
        self.assertEqual(len(mine), 6)
        for o in mine:
            self.assertTrue(ORDER_FIELDS <= set(o.keys()), o)
            self.assertEqual((o["merchant_id"], o["merchant_name"]), (self.mid, self.m["name"]))
        created = [o["created_at_ms"] for o in mine]
        self.assertEqual(created, sorted(created, reverse=True), "newest first")
        pid, amount = self.payins[0]
        o = a.find_order(pid)
        self.assertEqual((o["protocol"], o["kind"], o["amount_fen"], o["status"], o["channel"]),
                         ("gateway", "payin", 12345, "paid", "2"))
        mrn_hit = [x for x in mine if x["id"] == pid][0]["merchant_order_id"]
        self.assertEqual(a.find_order(mrn_hit)["id"], pid)
        card = a.find_order(self.card_id)
        self.assertEqual((card["protocol"], card["kind"], card["channel"], card["amount_fen"], card["settled_fen"],
                          card["fee_fen"], card["status"]),
                         ("consign", "card", harness.PRODUCT_MAIN, 10000, 4825, 175, "success"))
        po = a.find_order(self.po["mrn"])
        self.assertEqual((po["kind"], po["channel"], po["amount_fen"], po["settled_fen"], po["fee_fen"]),
                         ("payout", "", 2000, 2000, 150))
        self.assertEqual(a.find_order(self.card.fields["cardNumber"])["id"], self.card_id)
        self.assertEqual(a.find_order(self.card.fields["orderId"])["id"], self.card_id)
        self.assertEqual({x["kind"] for x in a.all_items("/orders", merchant_id=self.mid, kind="payin")}, {"payin"})
        paid = a.all_items("/orders", merchant_id=self.mid, kind="payin", status="paid")
        self.assertEqual(sorted(x["id"] for x in paid), sorted(p for p, _ in self.payins))
        self.assertEqual([x["id"] for x in a.all_items("/orders", merchant_id=self.mid, status="waiting")],
                         [self.unpaid])
        self.assertEqual(len(a.all_items("/orders", merchant_id=self.mid, channel="2")), 3)
        self.assertEqual(a.all_items("/orders", merchant_id=self.mid, from_ms=now_ms() + 3_600_000), [])
        self.assertEqual(len(a.all_items("/orders", merchant_id=self.mid, to_ms=now_ms() + 1000)), 6)
        self.assertEqual(a.ok(a.get("/orders", q="no-such-order-anywhere"))["items"], [])
        seen, cursor = [], None
        for _ in range(10):
            page = a.ok(a.get("/orders", merchant_id=self.mid, limit=4, cursor=cursor))
            seen += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, [x["id"] for x in mine], "pages cover the list exactly once")
        self.assertEqual(len(a.ok(a.get("/orders"))["items"]), 7)

    def test_order_detail(self):
        pid, _ = self.payins[0]
        d = self.admin.order(pid)
        self.assertTrue({"order", "timeline", "postings", "notifications", "actions"} <= set(d.keys()), d.keys())
        self.assertTrue(ORDER_FIELDS <= set(d["order"].keys()))
        ats = [t["at_ms"] for t in d["timeline"]]
        self.assertEqual(ats, sorted(ats), "oldest first")
        for p in d["postings"]:
            self.assertEqual(set(p.keys()), {"entry_id", "kind", "account", "amount_fen", "at_ms"})
        self.assertEqual(sum(p["amount_fen"] for p in d["postings"]), 0, "a balanced entry")
        card = self.admin.order(self.card_id)
        self.assertNotIn(self.card.fields["cardPassword"], json.dumps(card))
        self.assertNotIn(self.card.fields["_plain"], json.dumps(card), "the card password is masked")

    def test_orders_csv(self):
        r = self.admin.get("/orders.csv", merchant_id=self.mid)
        header, rows = parse_csv(self, r)
        self.assertEqual(header, ["id", "protocol", "kind", "merchant_id", "merchant_name", "merchant_order_id",
                                  "channel", "amount_yuan", "settled_yuan", "fee_yuan", "status", "created_at",
                                  "created_at_ms", "updated_at_ms"])
        self.assertRegex(r.header("Content-Disposition") or "", r'orders-\d{4}-\d{2}-\d{2}\.csv')
        for row in rows:
            self.assertRegex(row[header.index("created_at")], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
            for col in ("amount_yuan", "settled_yuan", "fee_yuan"):
                self.assertRegex(row[header.index(col)], r"^-?\d+\.\d\d$", (col, row))
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(len(r) == len(header) for r in rows))
        text = "\n".join(",".join(r) for r in rows)
        pid = self.payins[0][0]
        row = [r for r in rows if pid in r][0]
        self.assertIn("123.45", row, "amounts in yuan with two decimals")
        self.assertNotIn("12345", row, "not in fen")
        self.assertIn("3.09", row, "the fee 2.5% of 123.45 = 3.08625 -> 3.09")
        self.assertIn(self.m["name"], text, "Chinese names survive")
        _, paid = parse_csv(self, self.admin.get("/orders.csv", merchant_id=self.mid, kind="payin", status="paid"))
        self.assertEqual(len(paid), 3)
        header, everything = parse_csv(self, self.admin.get("/orders.csv"))
        self.assertEqual(len(everything), 7)
        names = {row[header.index("merchant_name")] for row in everything}
        self.assertIn("'" + self.other_name, names, "a cell starting with = is not a formula")

    def test_balances(self):
        body = self.admin.ok(self.admin.get("/balances"))
        rows = {b["merchant_id"]: b for b in body["items"]}
        self.assertTrue(BALANCE_FIELDS <= set(rows[self.mid].keys()), rows[self.mid])
        self.assertEqual(rows[self.mid]["available_fen"], self.expected_available())
        self.assertEqual(rows[self.mid]["available_fen"], self.srv.balance_fen(self.m["id"]))
        self.assertEqual(rows[merchant_id_of(self.other)]["available_fen"], 7777)
        self.assertIn("revenue_fen", body["platform"])
        fees = sum(fee_fen(int(round(float(a) * 100)), "2.5") for _, a in self.payins)
        self.assertGreaterEqual(body["platform"]["revenue_fen"], fees + 150)

    def test_statement_running_balance(self):
        st = self.admin.ok(self.admin.get("/statement", merchant_id=self.mid, account="available"))
        self.assertTrue({"opening_fen", "closing_fen", "items", "next_cursor"} <= set(st.keys()))
        self.assertEqual(st["opening_fen"], 0)
        bal = st["opening_fen"]
        for it in st["items"]:
            self.assertEqual(set(it.keys()), {"entry_id", "at_ms", "kind", "reference", "amount_fen", "balance_fen"})
            bal += it["amount_fen"]
            self.assertEqual(it["balance_fen"], bal, st)
        self.assertEqual(st["closing_fen"], bal)
        self.assertEqual(bal, self.expected_available())
        ids = [it["entry_id"] for it in st["items"]]
        self.assertEqual(ids, sorted(ids), "oldest first, in the ledger's order")
        refs = " ".join(it["reference"] for it in st["items"])
        for pid, _ in self.payins:
            self.assertIn(pid, refs)
        # pages of two continue the running balance
        seen, cursor = [], None
        for _ in range(20):
            page = self.admin.ok(self.admin.get("/statement", merchant_id=self.mid, account="available", limit=2,
                                                cursor=cursor))
            seen += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual([(i["entry_id"], i["balance_fen"]) for i in seen],
                         [(i["entry_id"], i["balance_fen"]) for i in st["items"]])
        # a time range: opening is the balance before it
        if len(st["items"]) >= 2:
            cut = st["items"][-1]["at_ms"]
            part = self.admin.ok(self.admin.get("/statement", merchant_id=self.mid, account="available",
                                                from_ms=cut))
            first = part["items"][0]
            self.assertEqual(part["opening_fen"] + first["amount_fen"], first["balance_fen"])
            self.assertEqual(part["closing_fen"], st["closing_fen"])
        self.assertError(self.admin.get("/statement", merchant_id=self.mid, account="savings"), "bad_request")
        self.assertError(self.admin.get("/statement", merchant_id=99999999), "not_found")
        # the CSV
        # the CSV: an opening row, the postings, a closing row
        header, rows = parse_csv(self, self.admin.get("/statement.csv", merchant_id=self.mid, account="available"))
        labelled = [r for r in rows if {"opening", "closing"} & {c.strip().lower() for c in r}]
        self.assertEqual(len(labelled), 2, rows)
        self.assertEqual(len(rows), len(st["items"]) + 2)
        closing = [r for r in rows if "closing" in [c.strip().lower() for c in r]][0]
        self.assertIn(yuan(self.expected_available()), closing, "the closing balance in yuan")
        for it in st["items"]:
            row = [r for r in rows if str(it["entry_id"]) in r or it["reference"] in r]
            self.assertTrue(row, (it, rows))
            self.assertIn(yuan(it["balance_fen"]), row[0])

    def test_reconciliation_matches_the_ledger(self):
        day = today_local()
        r = self.admin.ok(self.admin.get("/reconciliation", date=day))
        self.assertTrue({"date", "from_ms", "to_ms", "rows", "totals", "ledger", "matches", "differences"}
                        <= set(r.keys()), r)
        self.assertEqual(r["date"], day)
        self.assertIn(r["to_ms"] - r["from_ms"], (86_400_000, 86_399_999), "one day")
        self.assertIs(r["matches"], True, r)
        self.assertEqual(r["differences"], [])
        rows = [x for x in r["rows"] if x["merchant_id"] == self.mid]
        gw = [x for x in rows if x["protocol"] == "gateway" and x["channel"] == "2"]
        self.assertEqual(len(gw), 1, rows)
        gross = sum(int(round(float(a) * 100)) for _, a in self.payins)
        fees = sum(fee_fen(int(round(float(a) * 100)), "2.5") for _, a in self.payins)
        self.assertEqual((gw[0]["orders"], gw[0]["gross_fen"], gw[0]["fee_fen"], gw[0]["net_fen"]),
                         (3, gross, fees, gross - fees))
        self.assertEqual(sum(x["payouts"] for x in rows), 1)
        self.assertEqual(sum(x["payouts_fen"] for x in rows), 2000)
        self.assertEqual(sum(x["payout_fees_fen"] for x in rows), 150)
        one = self.admin.ok(self.admin.get("/reconciliation", date=day, merchant_id=self.mid))
        self.assertEqual({x["merchant_id"] for x in one["rows"]}, {self.mid})
        self.assertIs(one["matches"], True)
        card = [x for x in rows if x["protocol"] == "consign"]
        self.assertEqual([(x["channel"], x["orders"], x["gross_fen"], x["net_fen"], x["fee_fen"]) for x in card],
                         [(harness.PRODUCT_MAIN, 1, 5000, 4825, 175)])
        po = [x for x in rows if x["protocol"] == "payout"]
        self.assertEqual([(x["channel"], x["payouts"], x["payouts_fen"], x["payout_fees_fen"]) for x in po],
                         [("", 1, 2000, 150)])
        _, csv_rows = parse_csv(self, self.admin.get("/reconciliation.csv", date=day))
        cells = [c.strip().lower() for row in csv_rows for c in row]
        self.assertIn("total", cells)
        self.assertIn("matches", cells)
        self.assertNotIn("differs", cells)
        self.assertTrue([row for row in csv_rows if "123.45" in row or yuan(gross) in row], csv_rows)
        for bad in ("2026-13-40", "yesterday", ""):
            self.assertError(self.admin.get("/reconciliation", date=bad), "bad_request")
        # The CLI says the same.
        cli = self.srv.cli("report", "reconcile", "--date", day)
        self.assertIs(cli["matches"], True, cli)

    def test_dashboard(self):
        d = self.admin.ok(self.admin.get("/dashboard", days=7))
        self.assertEqual(len(d["days"]), 7)
        self.assertEqual(d["days"], sorted(d["days"]))
        for proto in ("consign", "gateway", "payout", "cashier"):
            for series in ("orders", "succeeded", "volume_fen"):
                self.assertEqual(len(d["protocols"][proto][series]), 7, (proto, series))
        self.assertEqual(d["protocols"]["gateway"]["succeeded"][-1], 4)
        self.assertEqual(d["protocols"]["gateway"]["volume_fen"][-1], 12345 + 1000 + 20 + 7777)
        self.assertEqual(d["protocols"]["consign"]["succeeded"][-1], 1)
        self.assertEqual(d["protocols"]["payout"]["volume_fen"][-1], 2000)
        for k in ("delivered", "failed", "attempts_failed", "pending_now"):
            self.assertIn(k, d["notifications"])
        self.assertTrue({"available_fen", "pending_fen", "frozen_fen", "payout_reserved_fen"}
                        <= set(d["balances"].keys()))
        one = self.admin.ok(self.admin.get("/dashboard", days=7, merchant_id=self.mid))
        self.assertEqual(one["protocols"]["gateway"]["volume_fen"][-1], 12345 + 1000 + 20)
        self.assertEqual(one["balances"]["available_fen"], self.expected_available())
        for bad in ("0", "91", "x"):
            self.assertError(self.admin.get("/dashboard", days=bad), "bad_request")

    def test_zz_ledger_check_passes_at_the_end(self):
        self.assertTrue(self.srv.ledger_ok()["ok"])


# ============================================================================================ input validation

class ValidationTests(ConsoleCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-validation")
        harness.start_or_dump(cls.srv)
        cls.admin = new_world(cls.srv)
        cls.m = cls.srv.new_merchant()
        cls.mid = merchant_id_of(cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_bodies(self):
        a = self.admin
        self.assertError(a.post("/users", b'{"name": "x", '), "bad_request")
        self.assertError(a.post("/users", b'[1, 2]'), "bad_request")
        self.assertError(a.post("/users", b''), "bad_request")
        self.assertError(a.post("/users", {"name": "x-user-name", "role": "support", "password": "long enough"},
                                content_type="text/plain"), "unsupported_media_type")
        self.assertError(a.post("/users", {"name": 5, "role": "support", "password": "long-enough-pw"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "typed", "role": ["admin"], "password": "long-enough-pw"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "badrole", "role": "root", "password": "long-enough-pw"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "cli", "role": "cli", "password": "long-enough-pw"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "shortpw", "role": "support", "password": "123456789"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "longpw", "role": "support", "password": "x" * 129}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "n" * 65, "role": "support", "password": "long-enough-pw"}),
                         "bad_request")
        self.assertError(a.post("/users", {"name": "huge", "role": "support", "password": "p" * 20_000}),
                         "payload_too_large")
        make_user(a, "dup-name", "support", SUPPORT_PW)
        self.assertError(a.post("/users", {"name": "dup-name", "role": "support", "password": SUPPORT_PW}),
                         "conflict")
        self.assertNotIn("badrole", json.dumps(a.ok(a.get("/users"))))

    def test_merchant_fields(self):
        a, mid = self.admin, self.mid
        before = a.ok(a.get("/merchants/%d" % mid))["merchant"]
        for bad in ({"payout_fee_fen": -1}, {"payout_fee_fen": "1"}, {"payout_fee_fen": 1.5},
                    {"settlement_delay_days": -1}, {"settlement_delay_days": 366}, {"enabled": "no"},
                    {"payout_manual_approval": 1}, {"name": ""}, {"name": 42}, {"ip_allowlist": "10.0.0.1"}):
            self.assertError(a.patch("/merchants/%d" % mid, bad), "bad_request")
        self.assertEqual(a.ok(a.get("/merchants/%d" % mid))["merchant"], before, "nothing changed")
        self.assertError(a.patch("/merchants/%d" % mid, {"nickname": "x"}), "bad_request")
        self.assertError(a.patch("/merchants/%d" % mid, {}), "bad_request")
        self.assertError(a.patch("/merchants/%d" % mid, {"ip_allowlist": ["10.1.2.3/8"]}), "bad_request")
        self.assertError(a.post("/merchants", {"name": ""}), "bad_request")
        self.assertError(a.post("/merchants", {}), "bad_request")
        self.assertError(a.patch("/merchants/99999999", {"name": "x"}), "not_found")
        self.assertError(a.get("/merchants/99999999"), "not_found")
        r = a.get("/merchants/abc")
        self.assertError(r, "not_found" if r.status == 404 else "bad_request")

    def test_lists(self):
        a = self.admin
        for path in ("/orders", "/audit", "/merchants", "/statement"):
            q = {"merchant_id": self.mid} if path == "/statement" else {}
            self.assertError(a.get(path, cursor="garbage!!", **q), "bad_request")
            self.assertError(a.get(path, limit="ten", **q), "bad_request")
        self.assertError(a.get("/orders", from_ms="today"), "bad_request")
        self.assertError(a.get("/orders", kind="teleport"), "bad_request")
        self.assertError(a.get("/orders/does-not-exist"), "not_found")
        self.assertError(a.post("/orders/does-not-exist/resend"), "not_found")
        self.assertError(a.post("/users/987654/disable"), "not_found")

    def test_unknown_admin_endpoint_is_a_json_404(self):
        self.assertError(self.admin.get("/no-such-endpoint"), "not_found")
        self.assertError(self.admin.post("/no/such/endpoint"), "not_found")
        wrong_method = self.admin.request("DELETE", "/me")
        self.assertError(wrong_method, "method_not_allowed")
        self.assertEqual(wrong_method.header("Allow"), "GET")


# ================================================================================================ the OpenAPI

# Every endpoint of docs/console.md, as docs/api/admin.yaml must list it (paths relative to /admin/api).
CONTRACT_OPERATIONS = {
    "POST /login", "POST /logout", "GET /me", "POST /me/password",
    "GET /users", "POST /users", "POST /users/{id}/disable", "POST /users/{id}/enable", "POST /users/{id}/password",
    "GET /audit", "GET /dashboard",
    "GET /notifications",
    "GET /orders", "GET /orders.csv", "GET /orders/{id}", "POST /orders/{id}/resend", "POST /orders/{id}/resolve",
    "POST /orders/{id}/hold", "POST /orders/{id}/release", "POST /orders/{id}/approve", "POST /orders/{id}/reject",
    "GET /merchants", "POST /merchants", "GET /merchants/{id}", "PATCH /merchants/{id}",
    "PUT /merchants/{id}/channels/{channel_id}", "PUT /merchants/{id}/products/{code}",
    "POST /merchants/{id}/rotate-keys", "GET /catalogue",
    "GET /balances", "GET /statement", "GET /statement.csv", "GET /reconciliation", "GET /reconciliation.csv",
}
OPENAPI = os.path.join(harness.REPO, "docs", "api", "admin.yaml")
CONTRACT = os.path.join(harness.REPO, "docs", "console.md")


class OpenApiDocumentTests(unittest.TestCase):
    """docs/api/admin.yaml lists every endpoint of the contract (read line by line: the standard library has no
    YAML parser; where PyYAML happens to be installed the whole document is also parsed and its $refs
    resolved)."""

    def operations(self):
        ops, path, in_paths = set(), None, False
        with open(OPENAPI, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if re.match(r"^\S", line):
                    in_paths = line.startswith("paths:")
                    continue
                if not in_paths:
                    continue
                m = re.match(r"^  (/\S*):\s*$", line)
                if m:
                    path = m.group(1)
                    continue
                m = re.match(r"^    (get|post|put|patch|delete|head):\s*$", line)
                if m and path:
                    ops.add("%s %s" % (m.group(1).upper(), path))
        return ops

    def test_every_contract_endpoint_is_documented(self):
        ops = self.operations()
        self.assertEqual(ops, CONTRACT_OPERATIONS)
        with open(CONTRACT, encoding="utf-8") as f:
            contract = f.read()
        for op in CONTRACT_OPERATIONS:
            path = op.split(" ", 1)[1]
            stem = path.split("{")[0].replace(".csv", "").rstrip("/")
            self.assertTrue("/admin/api" + stem in contract.replace("`", ""), "%s is not in docs/console.md" % op)

    def test_document_parses_and_every_ref_resolves(self):
        try:
            import yaml
        except ImportError:
            yaml = None
        with open(OPENAPI, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("openapi: 3.0."))
        self.assertNotIn("\t", text, "YAML has no tabs")
        for name in ("pg_console", "X-CSRF-Token", "cookie", "header"):
            self.assertIn(name, text)
        for action in ("user.create", "user.disable", "user.enable", "user.password", "merchant.create",
                       "merchant.update", "merchant.rotate_keys", "channel.set", "product.set", "order.resend",
                       "order.resolve", "order.hold", "order.release", "payout.approve", "payout.reject"):
            self.assertIn("x-audit-action: " + action, text)
        for ref in set(re.findall(r'\$ref: "#/([^"]+)"', text)):
            section, _, name = ref.rpartition("/")
            self.assertRegex(text, r"(?m)^    %s:" % re.escape(name), "the target of $ref %s" % ref)
        if yaml is None:
            return
        doc = yaml.safe_load(text)

        def resolve(ref):
            node = doc
            for part in ref[2:].split("/"):
                node = node[part]
            return node

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    resolve(node["$ref"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(doc)
        for path, item in doc["paths"].items():
            for method, op in item.items():
                self.assertIn("responses", op, (method, path))
                declared = set()
                for p in op.get("parameters", []):
                    p = resolve(p["$ref"]) if "$ref" in p else p
                    if p["in"] == "path":
                        declared.add(p["name"])
                self.assertEqual(declared, set(re.findall(r"\{(\w+)\}", path)), (method, path))
        err = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
        self.assertEqual(set(err), set(ERROR_STATUS))


# ========================================================================================================= CLI

class CliTests(ConsoleCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="console-cli")
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.cli_actor = "cli:" + unix_user()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def test_cli_equivalents_are_audited_as_cli_user(self):
        created = create_operator(self.srv, "cli-admin", "admin", ADMIN_PW)
        self.assertEqual((created["name"], created["role"]), ("cli-admin", "admin"))
        self.assertNotIn("password", created, "a password given on stdin is not printed back")
        admin = logged_in(self.srv, "cli-admin", ADMIN_PW)
        create_operator(self.srv, "cli-support", "support", SUPPORT_PW)
        ops = self.srv.cli("operator", "list")
        self.assertIsInstance(self.srv.cli("notify", "list", "--state", "delivered", "--limit", "5"), list)
        self.assertEqual({(o["name"], o["role"]) for o in ops} >= {("cli-admin", "admin"),
                                                                    ("cli-support", "support")}, True, ops)
        m = self.srv.new_merchant()
        mid = merchant_id_of(m)
        _cli_with_stdin(self.srv, ["merchant", "login", "create", m["id"], "--name", "cli-merchant",
                                   "--password-stdin", "--json"], MERCHANT_PW + "\n")
        mer = logged_in(self.srv, "cli-merchant", MERCHANT_PW)
        self.assertEqual((mer.user["role"], mer.user["merchant_id"]), ("merchant", mid))
        self.assertIn("cli-merchant", [u["name"] for u in self.srv.cli("merchant", "login", "list", m["id"])])

        # set-ips: enforced by the protocols, audited as merchant.update by cli:<user>
        self.srv.enable_channel(m["id"], 1, fee_rate="0")
        g = GatewayClient(self.srv, m)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "10.0.0.0/8,192.168.1.1")
        self.assertIn("IP not allowed", g.create(g.pay_in_fields()).json["errorMsg"])
        self.assertEqual(admin.ok(admin.get("/merchants/%d" % mid))["merchant"]["ip_allowlist"],
                         ["10.0.0.0/8", "192.168.1.1"])
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "")
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True)

        # order resend from the CLI: one more attempt
        key = unique("cli-resend")
        _, pid, _ = g.create_ok(self, callback_url=self.rx.url(key))
        g.complete(pid)
        self.rx.wait_count(key, 1)
        wait_delivered(admin, pid)
        self.srv.cli("order", "resend", pid)
        self.rx.wait_count(key, 2)

        entries = self.srv.cli("audit", "list")
        mine = [e for e in entries if e["actor_name"] == self.cli_actor]
        actions = {e["action"] for e in mine}
        self.assertTrue({"user.create", "merchant.update", "order.resend"} <= actions, actions)
        self.assertTrue(all(e["actor_role"] == "cli" for e in mine))
        ips = [e for e in mine if e["action"] == "merchant.update" and e["target_id"] == str(mid)]
        self.assertEqual(ips[0]["after"].get("ip_allowlist"), [], ips)
        self.assertEqual(ips[1]["after"].get("ip_allowlist"), ["10.0.0.0/8", "192.168.1.1"], ips)
        filtered = self.srv.cli("audit", "list", "--actor", self.cli_actor, "--action", "user.create")
        self.assertEqual({e["action"] for e in filtered}, {"user.create"})
        self.assertGreaterEqual(len(filtered), 3)
        self.assertEqual([e["target_id"] for e in self.srv.cli("audit", "list", "--action", "order.resend",
                                                                "--target-type", "order", "--target-id", pid)],
                         [pid])
        # and the API shows the same entries
        api = admin.audit(actor=self.cli_actor, action="order.resend")
        self.assertEqual([e["target_id"] for e in api], [pid])
        text = json.dumps(entries, ensure_ascii=False)
        for secret in (ADMIN_PW, SUPPORT_PW, MERCHANT_PW, m["key"], m["aesKey"]):
            self.assertNotIn(secret, text)

        # the CLI's money reports
        st = self.srv.cli("ledger", "statement", "--merchant", m["id"])
        self.assertIsNotNone(st)
        csv_text = self.srv.cli("ledger", "statement", "--merchant", m["id"], "--csv", json_out=False).stdout
        self.assertTrue(csv_text.startswith(b"\xef\xbb\xbf") or b"," in csv_text, csv_text[:80])
        rec = self.srv.cli("report", "reconcile", "--date", today_local())
        self.assertIs(rec["matches"], True, rec)
        self.assertTrue(self.srv.ledger_ok()["ok"])


if __name__ == "__main__":
    unittest.main()
