"""Browser: the operator and merchant console (/console) in headless Chromium (Debian's, driven by playwright-core)
against the real binary. Fixtures are made the way users make them: an admin by the CLI, a support user and two
merchants' logins through the admin API, orders through the merchant protocols (a consign card notified to a
receiver, a HOLD card waiting for review, a gateway payout waiting for manual approval on a merchant funded by a
paid pay-in, and merchant B's pay-in). tests/browser/console.mjs then logs in as support, finds an order by its
merchant order id, resends its notification and sees the new attempt, resolves the review; as admin approves the
payout, exports CSV, creates a merchant, visits every page, switches to English; as merchant A fails to find B's
order by search or by URL; and does it again on a phone-sized screen. Afterwards the effects are checked here
through the admin API and the receiver. Screenshots of every page go to build/artifacts/browser/<backend>/console/."""

import json
import os
import subprocess
import tempfile
import unittest

import harness
from harness import (ConsignClient, GatewayClient, PaygateTestCase, Receiver, Server, assert_submit_ok,
                     http_request, unique, wait_until)

ARTIFACTS = os.path.join(harness.browser_artifacts(), "console")
API = "/admin/api"
ADMIN = {"name": "root-admin", "password": "admin-password-0001"}
SUPPORT = {"name": "support-1", "password": "support-password-0001"}
MERCHANT_A = {"name": "merchant-a", "password": "merchant-password-0001"}
MERCHANT_B = {"name": "merchant-b", "password": "merchant-password-0002"}


def create_operator(srv, name, role, password):
    """`paygate operator create --name N --role R --password-stdin`."""
    cmd = [srv.bin, "operator", "create", "--name", name, "--role", role, "--password-stdin", "--json",
           "--config", srv.config, "--data", srv.data]
    p = subprocess.run(cmd, input=(password + "\n").encode(), capture_output=True, timeout=60, cwd=srv.tmp,
                       env=harness._child_env(srv.extra_env, srv.master_key))
    if p.returncode != 0:
        raise harness.CliError("paygate operator create exited %d\nstdout: %s\nstderr: %s"
                               % (p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))


class Api:
    """A console session over the admin API: the pg_console cookie and the CSRF token."""

    def __init__(self, srv, who):
        self.srv = srv
        r = http_request(srv.port, "POST", API + "/login", body=json.dumps(who).encode(),
                         headers={"Content-Type": "application/json"})
        if r.status != 200:
            raise AssertionError("login %s: %r" % (who["name"], r))
        cookie = next(v for k, v in r.headers if k.lower() == "set-cookie" and v.startswith("pg_console="))
        self.cookie = cookie.split(";")[0]
        self.csrf = r.json["csrf_token"]

    def call(self, method, path, body=None, status=200):
        headers = {"Cookie": self.cookie}
        data = None
        if method != "GET":
            headers["X-CSRF-Token"] = self.csrf
            headers["Content-Type"] = "application/json"
            data = json.dumps(body or {}).encode()
        r = http_request(self.srv.port, method, API + path, body=data, headers=headers)
        if r.status != status:
            raise AssertionError("%s %s: expected %d, got %r" % (method, path, status, r))
        return r.json if r.body else None

    def find_order(self, q):
        items = self.call("GET", "/orders?q=" + q)["items"]
        if len(items) != 1:
            raise AssertionError("orders?q=%s: %r" % (q, items))
        return items[0]


class ConsoleBrowserTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_browser()
        cls.srv = Server(name="console-browser", retry_step_ms=300)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        create_operator(cls.srv, ADMIN["name"], "admin", ADMIN["password"])
        cls.admin = Api(cls.srv, ADMIN)
        cls.ma = cls.srv.new_merchant(name="星河商城 Galaxy Mall")
        cls.mb = cls.srv.new_merchant(name="云端游戏 Cloud Games")
        cls.a_id, cls.b_id = int(cls.ma["id"]), int(cls.mb["id"])
        for m in (cls.ma, cls.mb):
            cls.srv.enable_channel(m["id"], 3, fee_rate="0")
            cls.srv.enable_channel(m["id"], 2, fee_rate="2.5")
        cls.admin.call("POST", "/users", dict(SUPPORT, role="support"), status=201)
        cls.admin.call("POST", "/users", dict(MERCHANT_A, role="merchant", merchant_id=cls.a_id), status=201)
        cls.admin.call("POST", "/users", dict(MERCHANT_B, role="merchant", merchant_id=cls.b_id), status=201)

        # Merchant A: a card redeemed and notified, a HOLD card waiting for review.
        c = ConsignClient(cls.srv, cls.ma)
        cls.notify_key = unique("console-notify")
        r = c.submit(notify_url=cls.rx.url(cls.notify_key), face=100)
        cls.notify = {"id": assert_submit_ok(unittest.TestCase(), r), "merchant_order_id": r.fields["orderId"]}
        r = c.submit(password="HOLD-" + unique(), face=100, notify_url=cls.rx.url(unique("console-review")))
        cls.review = {"id": assert_submit_ok(unittest.TestCase(), r), "merchant_order_id": r.fields["orderId"]}
        # Merchant A with manual payout approval, funded by a paid pay-in, asks for a payout.
        cls.admin.call("PATCH", "/merchants/%d" % cls.a_id, {"payout_manual_approval": True})
        g = GatewayClient(cls.srv, cls.ma)
        g.fund(unittest.TestCase(), 50000, channel=3)
        pf = g.payout_fields(amount="100")
        r = g.payout(pf)
        assert r.json.get("error") == "success", r
        cls.payout = {"id": cls.admin.find_order(pf["mrn"])["id"], "merchant_order_id": pf["mrn"]}
        # Merchant B: a paid pay-in, which merchant A must not see.
        gb = GatewayClient(cls.srv, cls.mb)
        f, pid, _ = gb.create_ok(unittest.TestCase(), amount="66.00", channel=2)
        gb.complete(pid)
        cls.other = {"id": cls.admin.find_order(f["mrn"])["id"], "merchant_order_id": f["mrn"]}

        cls.rx.wait_count(cls.notify_key, 1)
        wait_until(lambda: cls.admin.call("GET", "/orders/" + cls.review["id"])["order"]["status"] == "review",
                   10, 0.05, "the HOLD card to wait for review")
        wait_until(lambda: cls.admin.call("GET", "/orders/" + cls.notify["id"])["notifications"][0]["attempts"],
                   10, 0.05, "the first notification attempt to be recorded")
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def run_console(self, spec):
        with tempfile.TemporaryDirectory(prefix="paygate-console-") as tmp:
            spec = dict(spec, downloads=os.path.join(tmp, "downloads"))
            spec_path = os.path.join(tmp, "spec.json")
            with open(spec_path, "w") as f:
                json.dump(spec, f, ensure_ascii=False)
            cmd = ["node", os.path.join(harness.BROWSER_DIR, "console.mjs"), "--spec", spec_path,
                   "--screenshots", ARTIFACTS]
            p = subprocess.run(cmd, capture_output=True, timeout=600, cwd=harness.BROWSER_DIR)
        out = p.stdout.decode("utf-8", "replace").strip().splitlines()
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "console.mjs failed:\nstdout: %s\nstderr: %s" % ("\n".join(out), err))
        result = json.loads(out[-1])
        self.assertTrue(result.get("ok"), result)
        return result

    def test_console_support_admin_and_merchant_on_desktop_and_phone(self):
        before = len(self.rx.for_key(self.notify_key))
        spec = {
            "base": "http://127.0.0.1:%d" % self.srv.port,
            "admin": ADMIN, "support": SUPPORT, "merchant_a": dict(MERCHANT_A, merchant_id=self.a_id),
            "notify": self.notify, "review": self.review, "payout": self.payout, "other": self.other,
            "resolve_yuan": "100.00", "new_merchant_name": "新商户 " + unique("N"),
        }
        result = self.run_console(spec)

        # The resend reached the merchant's receiver once more, and the page showed the new attempt.
        self.assertGreater(result["attempts_after"], result["attempts_before"], result)
        self.rx.wait_count(self.notify_key, before + 1)
        # The review was resolved as a success, the payout approved (then paid by the sandbox bank).
        self.assertEqual(self.admin.call("GET", "/orders/" + self.review["id"])["order"]["status"], "success")
        self.assertNotEqual(self.admin.call("GET", "/orders/" + self.payout["id"])["order"]["status"], "approval")
        # The CSV download: a UTF-8 BOM, a header, the order searched for and nothing else.
        csv_text = result["csv"]
        self.assertTrue(csv_text.startswith("\ufeff"), csv_text[:40])
        lines = [ln for ln in csv_text.lstrip("\ufeff").splitlines() if ln.strip()]
        self.assertEqual(len(lines), 2, csv_text)
        self.assertIn(self.notify["merchant_order_id"], lines[1])
        # Each action is in the audit log under the user who took it.
        audit = self.admin.call("GET", "/audit?limit=200")["items"]
        done = {(e["action"], e["actor_name"], e["target_id"]) for e in audit}
        self.assertIn(("order.resend", SUPPORT["name"], self.notify["id"]), done)
        self.assertIn(("order.resolve", SUPPORT["name"], self.review["id"]), done)
        self.assertIn(("payout.approve", ADMIN["name"], self.payout["id"]), done)
        self.assertTrue(any(a == "merchant.create" and who == ADMIN["name"] for a, who, _ in done), audit[:5])
        # Every screenshot is a real image.
        for path in result["screenshots"]:
            self.assertGreater(os.path.getsize(path), 5000, path)


if __name__ == "__main__":
    unittest.main()
