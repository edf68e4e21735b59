"""gateway protocol against the real binary: pay-in in page and WebAPI mode, the hosted page, sandbox completion,
fees to the fen, callbacks and their retries, queries with and without re-callback, expiry; payouts with the
balance hold, bank success and failure with refund, manual approval, every error code, identical retries, and 200
concurrent payouts against a balance that covers 50."""

import threading
import time
import unittest
import urllib.parse
from decimal import Decimal

import harness
from harness import (PAYIN_CALLBACK_SIGN_FIELDS, PAYOUT_CALLBACK_SIGN_FIELDS, GatewayClient, PaygateTestCase,
                     Receiver, Server, fee_fen, gateway_sign, http_request, payment_id_of, unique, wait_until)

RETRY_MS = (300, 600)   # the scaled gateway_retry_delays_ms of the fast tests: 3 attempts
SLACK = 0.4


class PayInTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="gw-payin", gateway_retry_delays_ms=RETRY_MS)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.m = cls.srv.new_merchant(name="网关测试商户 Gateway Test")
        cls.srv.enable_channel(cls.m["id"], 1, fee_rate="0")
        cls.srv.enable_channel(cls.m["id"], 2, fee_rate="2.5", min_amount="0.10", max_amount="50000")
        cls.g = GatewayClient(cls.srv, cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def payin(self, pid):
        return self.srv.cli("payin", "show", pid)

    def test_webapi_create_answers_a_path_only_pay_url(self):
        f = self.g.pay_in_fields(amount="10.5", payer="李四")
        r = self.g.create(f)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.text.startswith('{"success":true,"errorMsg":"","payUrl":"/api/Pay?id=P'), r.text)
        pay_url = r.json["payUrl"]
        self.assertTrue(pay_url.endswith("&channel=1"), pay_url)
        p = self.payin(payment_id_of(pay_url))
        self.assertEqual((p["mrn"], p["status"], p["amountFen"], p["originAmount"], p["payer"]),
                         (f["mrn"], "waiting", 1050, "10.5", "李四"))
        q = self.g.query(f["mrn"]).json
        self.assertEqual(q, {"error": "success", "result": {"Mrn": f["mrn"], "status": 0}})

    def test_an_ip_allowlist_refuses_calls_from_outside_it(self):
        m = self.srv.new_merchant()
        self.srv.enable_channel(m["id"], 1, fee_rate="0")
        g = GatewayClient(self.srv, m)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "10.0.0.0/8,2001:db8::/32")
        r = g.create(g.pay_in_fields())
        self.assertEqual(r.json, {"success": False, "errorMsg": "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist", "payUrl": ""}, r.text)
        q = g.query("M-none").json
        self.assertEqual((q["error"], q["errorMessage"]), ("sign_error", "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist"), q)
        p = g.payout(g.payout_fields()).json
        self.assertEqual((p["error"], p["errorMessage"]), ("sign_error", "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist"), p)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "127.0.0.1")
        self.assertEqual(g.create(g.pay_in_fields()).json["success"], True)

    def test_webapi_accepts_a_form_body_and_the_document_s_field_spellings(self):
        f = self.g.pay_in_fields()
        self.assertEqual(self.g.create(f, as_form=True).json["success"], True)
        # multipart/form-data (PHP's curl given an array of fields), WebAPI and page mode alike.
        mp = harness.post_multipart(self.srv.port, "/api/Pay/Create", self.g.pay_in_fields())
        self.assertEqual(mp.json["success"], True, mp)
        page = harness.post_multipart(self.srv.port, "/api/Pay", self.g.pay_in_fields())
        self.assertEqual(page.status, 302, page)
        # The document's tables spell appKey in Cyrillic and channelId as channelld.
        f2 = self.g.pay_in_fields()
        f2["\u0430\u0440\u0440\u041a\u0435\u0443"] = f2.pop("appKey")
        f2["channelld"] = f2.pop("channelId")
        self.assertEqual(self.g.create(f2).json["success"], True)

    def test_page_mode_redirects_to_the_hosted_page(self):
        f = self.g.pay_in_fields(amount="88.80")
        r = self.g.page_mode(f)
        self.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith("/api/Pay?id=P") and loc.endswith("&channel=1"), loc)
        page = http_request(self.srv.port, "GET", loc)
        self.assertEqual(page.status, 200)
        self.assertIn("text/html", page.header("Content-Type"))
        for text in ("88.80", f["mrn"], "网关测试商户 Gateway Test", "<svg", "SANDBOX"):
            self.assertIn(text, page.text)
        en = http_request(self.srv.port, "GET", loc + "&lang=en")
        self.assertEqual(en.status, 200)
        self.assertIn("WeChat", en.text)
        # An identical page-mode retry is sent to the same page.
        self.assertEqual(self.g.page_mode(f).header("Location"), loc)
        st = http_request(self.srv.port, "GET", "/api/Pay/Status?id=" + payment_id_of(loc)).json
        self.assertEqual(st["status"], 0)
        self.assertGreater(st["expiresInMs"], 14 * 60 * 1000)

    def test_page_mode_errors_are_an_html_page_that_says_what_is_wrong(self):
        r = self.g.page_mode(self.g.pay_in_fields(amount="1.234"))
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.header("Content-Type"))
        self.assertIn("amount has more than two decimals", r.text)
        bad_sign = self.g.page_mode(self.g.pay_in_fields(sign="0" * 32))
        self.assertIn("bad sign", bad_sign.text)
        missing = http_request(self.srv.port, "GET", "/api/Pay?id=Pnope&channel=1")
        self.assertEqual(missing.status, 404)
        self.assertIn("text/html", missing.header("Content-Type"))

    def test_webapi_errors(self):
        cases = [
            (self.g.pay_in_fields(omit=("mrn",)), "missing required field mrn"),
            (self.g.pay_in_fields(amount="0"), "amount must be greater than 0"),
            (self.g.pay_in_fields(channel=16), "channelId must be an id from the channel table"),
            (self.g.pay_in_fields(channel=3), "is not enabled for this merchant"),
            (self.g.pay_in_fields(channel=2, amount="0.09"), "below the minimum"),
            (self.g.pay_in_fields(secret="wrong"), "bad sign"),
            (self.g.pay_in_fields(extra={"appKey": "nobody"}), "unknown appKey"),
            (self.g.pay_in_fields(return_url="javascript:alert(1)"), "returnUrl must be an absolute http"),
        ]
        for fields, msg in cases:
            r = self.g.create(fields).json
            self.assertEqual(r["success"], False, (fields, r))
            self.assertIn(msg, r["errorMsg"])
            self.assertEqual(r["payUrl"], "")
            self.assertEqual(self.g.query(fields.get("mrn", "none")).json["error"], "object_not_found")
        broken = http_request(self.srv.port, "POST", "/api/Pay/Create", body=b'{"amount":',
                              headers={"Content-Type": "application/json"})
        self.assertEqual(broken.status, 200)
        self.assertEqual(broken.json["success"], False)

    def test_identical_retry_gets_the_first_answer_and_a_changed_one_is_refused(self):
        f = self.g.pay_in_fields()
        first = self.g.create(f).json
        again = self.g.create(dict(f, payer="not signed")).json
        self.assertEqual(again, first)
        changed = self.g.pay_in_fields(mrn=f["mrn"], amount="10.01")
        r = self.g.create(changed).json
        self.assertEqual(r["success"], False)
        # DECISIONS.md: a changed repeat is refused with the gateway's duplicate error; a pay-in answer has no code
        # member, so errorMsg begins with it.
        self.assertTrue(r["errorMsg"].startswith("mrn_duplication: mrn " + f["mrn"] + " was already used"), r)
        self.assertEqual(self.payin(payment_id_of(first["payUrl"]))["amountFen"], 1000)

    def test_an_identical_retry_gets_the_first_answer_after_the_operator_changed_the_channel(self):
        m = self.srv.new_merchant()
        self.srv.enable_channel(m["id"], 5, fee_rate="0", max_amount="100")
        g = GatewayClient(self.srv, m)
        f = g.pay_in_fields(channel=5, amount="50.00")
        first = g.create(f).json
        self.assertEqual(first["success"], True, first)
        page_f = g.pay_in_fields(channel=5, amount="60.00")
        loc = g.page_mode(page_f).header("Location")
        self.assertTrue(loc.startswith("/api/Pay?id=P"), loc)
        # The maximum lowered below the amounts, then the channel disabled: each refuses a new pay-in, and a retry
        # still gets its first answer (DECISIONS.md), in both modes.
        self.srv.enable_channel(m["id"], 5, fee_rate="0", max_amount="20")
        self.assertEqual(g.create(f).json, first)
        self.srv.cli("channel", "disable", "--merchant", m["id"], "--channel", 5)
        self.assertEqual(g.create(f).json, first)
        self.assertEqual(g.create(f, as_form=True).json, first)
        self.assertEqual(g.page_mode(page_f).header("Location"), loc)
        new = g.create(g.pay_in_fields(channel=5, amount="10.00")).json
        self.assertEqual(new, {"success": False, "payUrl": "",
                               "errorMsg": "channelId 5 (UnionPay QuickPass) is not enabled for this merchant"})
        changed = g.create(g.pay_in_fields(mrn=f["mrn"], channel=5, amount="50.01")).json
        self.assertEqual(changed["success"], False)
        self.assertIn("mrn " + f["mrn"] + " was already used", changed["errorMsg"])

    def test_paid_with_another_amount_credits_less_the_fee_to_the_fen_and_calls_back(self):
        key = unique("cb")
        before = self.srv.balance_fen(self.m["id"])
        f, pid, _ = self.g.create_ok(self, amount="100.01", channel=2, callback_url=self.rx.url(key))
        r = self.g.complete(pid, amount="100.03")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["ok"], True)
        self.assertEqual(r.json["status"], 1)
        want_fee = fee_fen(10003, "2.5")
        self.assertEqual(want_fee, 250)
        self.assertEqual(self.srv.balance_fen(self.m["id"]) - before, 10003 - want_fee)
        p = self.payin(pid)
        self.assertEqual((p["status"], p["paidFen"], p["feeFen"]), ("paid", 10003, 250))
        self.assertEqual(sorted(x["amountFen"] for x in p["postings"]), sorted([-10003, 10003 - 250, 250]))
        rec = self.rx.wait_count(key, 1)[0]
        self.assertEqual(rec["method"], "POST")
        self.assertIn("application/x-www-form-urlencoded", rec["content_type"])
        form = rec["form"]
        self.assertEqual(list(form.keys()), ["amount", "appKey", "channel", "mrn", "originAmount", "sign"])
        self.assertEqual((form["amount"], form["appKey"], form["channel"], form["mrn"], form["originAmount"]),
                         ("100.03", self.m["appKey"], "2", f["mrn"], "100.01"))
        self.assertEqual(form["sign"], gateway_sign(form, PAYIN_CALLBACK_SIGN_FIELDS, self.m["key"]))
        time.sleep(RETRY_MS[0] / 1000.0 + SLACK)
        self.assertEqual(len(self.rx.for_key(key)), 1, "delivered once: no retry")
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_fee_rounds_half_up(self):
        before = self.srv.balance_fen(self.m["id"])
        # 0.20 at 2.5% is exactly 0.005: half-up to 0.01.
        _, pid, _ = self.g.create_ok(self, amount="0.20", channel=2)
        self.g.complete(pid)
        self.assertEqual(self.payin(pid)["feeFen"], 1)
        self.assertEqual(self.srv.balance_fen(self.m["id"]) - before, 19)

    def test_callback_retries_until_success(self):
        key = unique("retry")
        self.rx.script(key, ["fail", ("status", 500, "success"), " SUCCESS \n"], default="success")
        _, pid, _ = self.g.create_ok(self, callback_url=self.rx.url(key))
        self.g.complete(pid)
        recs = self.rx.wait_count(key, 3, timeout=10)
        time.sleep(RETRY_MS[1] / 1000.0 * 2 + SLACK)
        recs = self.rx.for_key(key)
        self.assertEqual(len(recs), 3, "delivered on the 3rd attempt")
        gaps = [recs[i + 1]["t"] - recs[i]["t"] for i in range(2)]
        self.assertGreaterEqual(gaps[0], RETRY_MS[0] / 1000.0 - 0.05, gaps)
        self.assertGreaterEqual(gaps[1], RETRY_MS[1] / 1000.0 - 0.05, gaps)
        self.assertLess(gaps[1], RETRY_MS[1] / 1000.0 + SLACK, gaps)
        notes = self.payin(pid)["notifications"]
        self.assertEqual(notes[0]["state"], "delivered")
        self.assertEqual([a["httpStatus"] for a in notes[0]["attempts"]], [200, 500, 200])

    def test_callback_that_never_succeeds_stops_after_the_schedule(self):
        key = unique("never")
        self.rx.script(key, [], default="ok")
        _, pid, _ = self.g.create_ok(self, callback_url=self.rx.url(key))
        self.g.complete(pid)
        self.rx.wait_count(key, 3, timeout=10)
        time.sleep(sum(RETRY_MS) / 1000.0 + SLACK * 2)
        self.assertEqual(len(self.rx.for_key(key)), 3)
        note = wait_until(lambda: (lambda n: n if n and n[0]["state"] == "failed" else None)(
            self.payin(pid)["notifications"]), 5, 0.1, "the callback to be marked failed")
        self.assertEqual(note[0]["attemptsMade"], 3)

    def test_query_with_and_without_re_callback(self):
        key = unique("q")
        f, pid, _ = self.g.create_ok(self, callback_url=self.rx.url(key))
        self.assertEqual(self.g.query(f["mrn"], callback="true").json["result"]["status"], 0)
        self.g.complete(pid)
        self.rx.wait_count(key, 1)
        r = self.g.query(f["mrn"], callback="false")
        self.assertEqual(r.text, '{"error":"success","result":{"Mrn":"%s","status":1}}' % f["mrn"])
        self.assertEqual(self.g.query(f["mrn"]).json["result"]["status"], 1)
        time.sleep(0.3)
        self.assertEqual(len(self.rx.for_key(key)), 1, "no callback without callback=true")
        self.assertEqual(self.g.query(f["mrn"], callback="true").json["result"]["status"], 1)
        recs = self.rx.wait_count(key, 2)
        self.assertEqual(recs[1]["form"], recs[0]["form"], "the same signed callback again")
        self.assertEqual(self.g.query(f["mrn"], callback="TRUE").json["result"]["status"], 1)
        self.rx.wait_count(key, 3)

    def test_query_errors(self):
        f, _, _ = self.g.create_ok(self)
        self.assertEqual(self.g.query(unique("none")).json["error"], "object_not_found")
        bad = self.g.query(f["mrn"], secret="wrong").json
        self.assertEqual((bad["error"], bad["result"]), ("sign_error", None))
        self.assertEqual(self.g.query(f["mrn"], app_key="nobody").json["error"], "object_not_found")
        self.assertEqual(self.g.query(f["mrn"], callback="maybe").json["error"], "invalid_data")
        post = http_request(self.srv.port, "POST", "/api/Payments/Query")
        self.assertEqual(post.status, 405)
        self.assertEqual(post.header("Allow"), "GET")

    def test_failed_payment_moves_no_money_and_sends_no_callback(self):
        key = unique("fail")
        before = self.srv.balance_fen(self.m["id"])
        f, pid, _ = self.g.create_ok(self, callback_url=self.rx.url(key))
        r = self.g.complete(pid, result="fail")
        self.assertEqual((r.status, r.json["status"]), (200, 2))
        self.assertEqual(self.g.query(f["mrn"], callback="true").json["result"]["status"], 2)
        time.sleep(0.5)
        self.assertEqual(self.rx.for_key(key), [])
        self.assertEqual(self.srv.balance_fen(self.m["id"]), before)

    def test_sandbox_completion_errors(self):
        _, pid, _ = self.g.create_ok(self)
        self.assertEqual(self.g.complete("Pnonexistent").status, 404)
        self.assertEqual(self.g.complete(pid, result="maybe").status, 400)
        self.assertEqual(self.g.complete(pid, amount="-1").status, 400)
        self.assertEqual(self.g.complete(pid).status, 200)
        again = self.g.complete(pid, result="fail")
        self.assertEqual(again.status, 409)
        self.assertIn("already paid", again.json["error"])


class ExpiryTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="gw-expiry", payment_expiry_ms=1500)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.m = cls.srv.new_merchant()
        cls.srv.enable_channel(cls.m["id"], 5, fee_rate="1.0")
        cls.g = GatewayClient(cls.srv, cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def test_an_unpaid_order_fails_at_its_expiry(self):
        key = unique("exp")
        f, pid, pay_url = self.g.create_ok(self, channel=5, callback_url=self.rx.url(key))
        self.assertEqual(self.g.query(f["mrn"]).json["result"]["status"], 0)
        wait_until(lambda: self.g.query(f["mrn"]).json["result"]["status"] == 2, 5, 0.1, "the order to expire")
        p = self.srv.cli("payin", "show", pid)
        self.assertEqual((p["status"], p["message"]), ("failed", "expired"))
        late = self.g.complete(pid)
        self.assertEqual(late.status, 409)
        st = http_request(self.srv.port, "GET", "/api/Pay/Status?id=" + pid).json
        self.assertEqual((st["status"], st["expiresInMs"]), (2, 0))
        time.sleep(0.3)
        self.assertEqual(self.rx.for_key(key), [], "no callback: the document calls back on success only")
        self.assertEqual(self.srv.balance_fen(self.m["id"]), 0)


class RealScheduleTests(PaygateTestCase):
    """One callback on the platform's real default schedule: the 2nd attempt 10 s after the 1st."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="gw-real", gateway_retry_delays_ms=None)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.m = cls.srv.new_merchant()
        cls.srv.enable_channel(cls.m["id"], 1)
        cls.g = GatewayClient(cls.srv, cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def test_second_attempt_ten_seconds_after_the_first(self):
        key = unique("real")
        self.rx.script(key, ["fail"], default="success")
        _, pid, _ = self.g.create_ok(self, callback_url=self.rx.url(key))
        self.g.complete(pid)
        recs = self.rx.wait_count(key, 2, timeout=20)
        gap = recs[1]["t"] - recs[0]["t"]
        self.assertGreaterEqual(gap, 9.95)
        self.assertLess(gap, 10.0 + SLACK + 0.3)
        note = self.srv.cli("payin", "show", pid)["notifications"][0]
        self.assertEqual(note["attemptsMax"], 8, "the platform default: 8 attempts")


class PayoutTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="gw-payout", payout_delay_ms=200)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def merchant(self, fund_fen, fee=None, manual=False):
        m = self.srv.new_merchant()
        self.srv.enable_channel(m["id"], 3, fee_rate="0")
        g = GatewayClient(self.srv, m)
        if fund_fen:
            g.fund(self, fund_fen, channel=3)
        if fee is not None or manual:
            args = ["merchant", "set-payout", m["id"]]
            if fee is not None:
                args += ["--fee", fee]
            if manual:
                args += ["--manual-approval", "on"]
            self.srv.cli(*args)
        return m, g

    def status(self, g, mrn):
        return g.query(mrn, kind="Payouts").json["result"]["status"]

    def test_paid_payout_holds_amount_plus_fee_then_calls_back(self):
        m, g = self.merchant(100000, fee="2.00")
        key = unique("po")
        f = g.payout_fields(amount="100", callback_url=self.rx.url(key))
        r = g.payout(f)
        self.assertEqual(r.text, '{"error":"success","errorMessage":""}')
        avail, reserved = self.srv.balances(m["id"])
        self.assertEqual(avail, 100000 - 10200)
        self.assertIn(reserved, (10200, 0), "held until paid (it may already be paid)")
        rec = self.rx.wait_count(key, 1)[0]
        form = rec["form"]
        self.assertEqual(list(form.keys()), ["amount", "appKey", "mrn", "sign"])
        self.assertEqual((form["amount"], form["appKey"], form["mrn"]), ("100", m["appKey"], f["mrn"]))
        self.assertEqual(form["sign"], gateway_sign(form, PAYOUT_CALLBACK_SIGN_FIELDS, m["key"]))
        self.assertEqual(self.status(g, f["mrn"]), 1)
        self.assertEqual(self.srv.balances(m["id"]), (100000 - 10200, 0))
        # callback=true on a paid payout sends the same signed callback again.
        self.assertEqual(g.query(f["mrn"], kind="Payouts", callback="true").json["result"]["status"], 1)
        self.assertEqual(self.rx.wait_count(key, 2)[1]["form"], form)
        shown = self.srv.cli("payout", "list", "--merchant", m["id"])[0]
        self.assertEqual(shown["accountNumber"], "************1234", "the account number is masked")
        self.assertEqual(shown["fee"], "2.00")
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_failed_payout_returns_the_money_and_sends_no_callback(self):
        m, g = self.merchant(50000, fee="1.50")
        key = unique("pofail")
        f = g.payout_fields(amount="200", account_number="6222020000000000", callback_url=self.rx.url(key))
        self.assertEqual(g.payout(f).json["error"], "success")
        # Held at acceptance (the bank may already have answered by the time the CLI reads: then it is back).
        self.assertIn(self.srv.balance_fen(m["id"]), (50000 - 20150, 50000))
        wait_until(lambda: self.status(g, f["mrn"]) == 2, 5, 0.05, "the payout to fail")
        self.assertEqual(self.srv.balances(m["id"]), (50000, 0))
        self.assertEqual(self.status(g, f["mrn"]), 2)
        g.query(f["mrn"], kind="Payouts", callback="true")
        time.sleep(0.5)
        self.assertEqual(self.rx.for_key(key), [], "the document calls back on success only")
        po = self.srv.cli("payout", "list", "--merchant", m["id"], "--status", "failed")
        self.assertEqual(len(po), 1)
        kinds = [p["kind"] for p in self.srv.cli("payout", "show", po[0]["id"])["postings"]]
        self.assertEqual(sorted(set(kinds)), ["gateway.payout.refund", "gateway.payout.reserve"])
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_manual_approval(self):
        m, g = self.merchant(60000, manual=True)
        k1, k2 = unique("appr"), unique("rej")
        f1 = g.payout_fields(amount="100", callback_url=self.rx.url(k1))
        f2 = g.payout_fields(amount="200", callback_url=self.rx.url(k2))
        self.assertEqual(g.payout(f1).json["error"], "success")
        self.assertEqual(g.payout(f2).json["error"], "success")
        self.assertEqual(self.srv.balances(m["id"]), (30000, 30000))
        time.sleep(0.6)
        self.assertEqual((self.status(g, f1["mrn"]), self.status(g, f2["mrn"])), (0, 0), "waiting for an operator")
        waiting = {p["mrn"]: p["id"] for p in self.srv.cli("payout", "list", "--merchant", m["id"], "--status",
                                                             "approval")}
        self.assertEqual(set(waiting), {f1["mrn"], f2["mrn"]})
        self.srv.cli("payout", "approve", waiting[f1["mrn"]])
        self.rx.wait_count(k1, 1)
        self.assertEqual(self.status(g, f1["mrn"]), 1)
        self.srv.cli("payout", "reject", waiting[f2["mrn"]], "--reason", "name mismatch")
        self.assertEqual(self.status(g, f2["mrn"]), 2)
        self.assertEqual(self.srv.balances(m["id"]), (60000 - 10000, 0), "the rejected 200 came back")
        again = self.srv.cli("payout", "approve", waiting[f2["mrn"]], check=False, json_out=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn(b"not waiting for approval", again.stderr)
        self.assertEqual(self.rx.for_key(k2), [])
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_each_error_code(self):
        m, g = self.merchant(10000)
        ok = g.payout_fields(amount="50")
        self.assertEqual(g.payout(ok).json["error"], "success")
        cases = [
            (g.payout_fields(amount="10.5"), "invalid_data", "whole number"),
            (g.payout_fields(account_number="12-34"), "invalid_data", "accountNumber"),
            (g.payout_fields(omit=("bankName",)), "invalid_data", "missing required field bankName"),
            (g.payout_fields(secret="wrong"), "sign_error", "bad sign"),
            (g.payout_fields(mrn=ok["mrn"], amount="51"), "mrn_duplication", ok["mrn"]),
            (g.payout_fields(amount="51"), "insufficient_balance", "available balance is 50.00"),
            (g.payout_fields(extra={"appKey": "nobody-knows"}), "object_not_found", "unknown appKey"),
        ]
        for fields, code, msg in cases:
            r = g.payout(fields).json
            self.assertEqual(list(r.keys()), ["error", "errorMessage"])
            self.assertEqual(r["error"], code, (fields, r))
            self.assertIn(msg, r["errorMessage"])
        broken = http_request(self.srv.port, "POST", "/api/Payouts/Create", body=b"[1,2]",
                              headers={"Content-Type": "application/json"})
        self.assertEqual((broken.status, broken.json["error"]), (200, "invalid_data"))
        self.assertEqual(self.srv.balances(m["id"])[0], 5000, "only the accepted payout moved money")

    def test_identical_retry_moves_no_money_twice(self):
        m, g = self.merchant(30000)
        f = g.payout_fields(amount="100")
        self.assertEqual(g.payout(f).json["error"], "success")
        self.assertEqual(g.payout(f).json["error"], "success")
        self.assertEqual(self.srv.balance_fen(m["id"]), 20000)
        self.assertEqual(len(self.srv.cli("payout", "list", "--merchant", m["id"])), 1)

    def test_200_concurrent_payouts_against_a_balance_for_50(self):
        m, g = self.merchant(50 * 1000)
        fields = [g.payout_fields(amount="10") for _ in range(200)]
        results = []
        lock = threading.Lock()
        negative = []
        stop = threading.Event()

        def send(chunk):
            conn = harness.http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
            try:
                for f in chunk:
                    r = g.payout(f, conn=conn).json["error"]
                    with lock:
                        results.append(r)
            finally:
                conn.close()

        def watch():
            while not stop.is_set():
                avail, reserved = self.srv.balances(m["id"])
                if avail < 0 or reserved < 0:
                    negative.append((avail, reserved))

        watcher = threading.Thread(target=watch)
        watcher.start()
        threads = [threading.Thread(target=send, args=(fields[i::20],)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        watcher.join()
        self.assertEqual(results.count("success"), 50, results)
        self.assertEqual(results.count("insufficient_balance"), 150, sorted(set(results)))
        self.assertEqual(negative, [])
        self.assertEqual(self.srv.balance_fen(m["id"]), 0)
        wait_until(lambda: self.srv.balances(m["id"])[1] == 0, 10, 0.1, "every accepted payout to be paid")
        paid = self.srv.cli("payout", "list", "--merchant", m["id"], "--status", "paid", "--limit", "1000")
        self.assertEqual(len(paid), 50)
        check = self.srv.ledger_ok()
        self.assertTrue(check["ok"], check)


if __name__ == "__main__":
    unittest.main()
