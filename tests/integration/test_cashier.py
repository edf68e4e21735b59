"""cashier protocol against the real binary: req/sign envelopes, the payment request (POST and GET), the hosted
cashier, every result code end to end with the money behind it (0000 available, 1002 pending then settled, 1003,
1004 held then released either way, 1001 unpaid), the back notify and its schedule, the front notify redirect
verified by an independent decoder, queries, refusals with and without a known merchant."""

import base64
import hashlib
import json
import time
import unittest
import urllib.parse

import harness
from harness import (CashierClient, PaygateTestCase, Receiver, Server, back_notify_of, cashier_open, cashier_seal,
                     http_request, md5_lower, unique, wait_until)

UNIT = 0.1   # the scaled cashier_retry_unit_ms
SLACK = 0.4
DAY_MS = 86_400_000


class CashierTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="cashier", cashier_retry_unit_ms=int(UNIT * 1000))
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver(default="0000").start()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def merchant(self, delay_days=0, methods=((1, "1.0"), (2, "0.6")), bound_card=False):
        m = self.srv.new_merchant(name=unique("收银台商户"))
        for channel, fee in methods:
            self.srv.enable_channel(m["id"], channel, fee_rate=fee)
        args = ["merchant", "set-cashier", m["id"], "--settlement-delay-days", delay_days]
        if bound_card:
            args += ["--bound-card", "on"]
        self.srv.cli(*args)
        return m, CashierClient(self.srv, m)

    def balances(self, mid):
        """available, pending, frozen (fen), read from the ledger postings through the CLI."""
        b = self.srv.cli("merchant", "balance", mid)
        return b["availableFen"], b.get("pendingFen", 0), b.get("frozenFen", 0)

    def notifies(self, key, n, secret):
        return [back_notify_of(r, secret) for r in self.rx.wait_count(key, n)]

    def test_an_ip_allowlist_refuses_pay_and_query_from_outside_it(self):
        m, c = self.merchant()
        req, qid = c.pay_ok(self)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "10.0.0.0/8")
        j = c.pay(c.pay_request(), accept_json=True).json
        r = cashier_open(j["resp"], j["sign"], m["key"])
        self.assertEqual((r["resultcode"], r["resultmsg"]), ("1003", "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist"), r)
        a = c.query_answer(queryid=qid)
        self.assertEqual((a["respcode"], a["respmsg"]), ("02", "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist"), a)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "127.0.0.1/32")
        c.pay_ok(self)
        self.assertEqual(c.query_answer(queryid=qid)["respcode"], "00")

    def test_payment_request_redirects_to_the_hosted_cashier(self):
        m, c = self.merchant()
        req, qid = c.pay_ok(self, txnamt=12345)
        page = http_request(self.srv.port, "GET", "/cashier?id=" + qid)
        self.assertEqual(page.status, 200)
        for text in ("123.45", req["orderid"], "微信支付", "<svg"):
            self.assertIn(text, page.text)
        a = c.query_answer(queryid=qid)
        self.assertEqual((a["respcode"], a["resultcode"], a["queryid"], a["txnamt"], a["merid"], a["orderid"],
                          a["paytime"]), ("00", "1001", qid, 12345, str(m["id"]), req["orderid"], ""))
        # GET /apis/icashier with the envelope in the query string, and an identical retry, answer alike.
        r = c.pay(c.pay_request(), method="GET")
        self.assertEqual(r.status, 302)
        self.assertEqual(c.pay(req).header("Location"), "/cashier?id=" + qid)
        # A multipart/form-data body (PHP's curl given an array of fields) carries the same two fields.
        text, good = harness.cashier_seal(req, c.secret)
        mp = harness.post_multipart(self.srv.port, "/api/icashier", {"req": text, "sign": good})
        self.assertEqual((mp.status, mp.header("Location")), (302, "/cashier?id=" + qid), mp)
        qtext, qsign = harness.cashier_seal({"merid": c.merid, "queryid": qid}, c.secret)
        q = harness.post_multipart(self.srv.port, "/api/query", {"req": qtext, "sign": qsign})
        self.assertEqual(q.status, 200, q)
        self.assertEqual(cashier_open(q.json["resp"], q.json["sign"], c.secret)["queryid"], qid, q)

    def test_raw_plus_signs_in_a_query_string_still_verify(self):
        m, c = self.merchant()
        # Find a request whose base64 has a '+', and send it unencoded (a common client bug).
        # '~' (0x7E) as the 3rd byte of a base64 group encodes as '+': three in a row always give one.
        req = c.pay_request(orderid="PLUS00000001", action="WeiXin", backurl="http://127.0.0.1:9/back~~~")
        text, sign = cashier_seal(req, c.secret)
        self.assertIn("+", text)
        r = http_request(self.srv.port, "GET", "/apis/icashier?req=%s&sign=%s" % (text, sign))
        self.assertEqual(r.status, 302, r)

    def test_0000_paid_to_available_with_the_fee(self):
        m, c = self.merchant()
        key = unique("b0000")
        req, qid = c.pay_ok(self, txnamt=10000, action="WeiXin", backurl=self.rx.url(key))
        r = c.complete(qid, "success")
        self.assertEqual((r.status, r.json["resultcode"]), (200, "0000"), r)
        n = self.notifies(key, 1, m["key"])[0]
        self.assertEqual(list(n.keys()), ["resultcode", "resultmsg", "queryid", "txnamt", "merid", "orderid", "paytime"])
        self.assertEqual((n["resultcode"], n["queryid"], n["txnamt"], n["orderid"]), ("0000", qid, 10000, req["orderid"]))
        self.assertRegex(n["paytime"], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
        self.assertEqual(self.balances(m["id"]), (10000 - 100, 0, 0), "1.0% fee")
        self.assertEqual(c.query_answer(orderid=req["orderid"])["resultcode"], "0000")
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_1002_pending_then_settled_on_a_controlled_clock(self):
        m, c = self.merchant(delay_days=1)
        key = unique("b1002")
        req, qid = c.pay_ok(self, txnamt=50000, action="AliPay", backurl=self.rx.url(key))
        self.assertEqual(c.complete(qid, "success").json["resultcode"], "1002")
        self.assertEqual(self.notifies(key, 1, m["key"])[0]["resultcode"], "1002")
        self.assertEqual(self.balances(m["id"]), (0, 50000 - 300, 0))
        # Not yet due: a settlement now moves nothing.
        self.assertEqual(self.srv.cli("settle")["settled"], 0)
        self.assertEqual(self.srv.cli("settle", "--as-of", int(time.time() * 1000) + DAY_MS + 5000)["settled"], 1)
        n = self.notifies(key, 2, m["key"])[1]
        self.assertEqual(n["resultcode"], "0000")
        self.assertEqual(self.balances(m["id"]), (50000 - 300, 0, 0))
        self.assertEqual(c.query_answer(queryid=qid)["resultcode"], "0000")
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_1003_failed_moves_no_money(self):
        m, c = self.merchant()
        key = unique("b1003")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        self.assertEqual(c.complete(qid, "1003").json["resultcode"], "1003")
        n = self.notifies(key, 1, m["key"])[0]
        self.assertEqual((n["resultcode"], n["paytime"]), ("1003", ""))
        self.assertEqual(self.balances(m["id"]), (0, 0, 0))
        self.assertEqual(c.complete(qid, "success").status, 409)

    def test_1004_held_then_released_to_the_merchant_or_returned_to_the_payer(self):
        m, c = self.merchant()
        k1, k2 = unique("b1004a"), unique("b1004b")
        _, q1 = c.pay_ok(self, txnamt=20000, backurl=self.rx.url(k1))
        _, q2 = c.pay_ok(self, txnamt=30000, backurl=self.rx.url(k2))
        self.assertEqual(c.complete(q1, "1004").json["resultcode"], "1004")
        self.assertEqual(c.complete(q2, "1004").json["resultcode"], "1004")
        self.assertEqual(self.balances(m["id"]), (0, 0, 19800 + 29700))
        self.srv.cli("order", "release", q1, "--to", "merchant")
        self.srv.cli("order", "release", q2, "--to", "payer", "--reason", "fraud confirmed")
        self.assertEqual([n["resultcode"] for n in self.notifies(k1, 2, m["key"])], ["1004", "0000"])
        n2 = self.notifies(k2, 2, m["key"])
        self.assertEqual([n["resultcode"] for n in n2], ["1004", "1003"])
        self.assertEqual(n2[1]["resultmsg"], "fraud confirmed")
        self.assertEqual(self.balances(m["id"]), (19800, 0, 0))
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_operator_holds_a_paid_order(self):
        m, c = self.merchant(delay_days=2)
        key = unique("bhold")
        _, qid = c.pay_ok(self, txnamt=10000, backurl=self.rx.url(key))
        c.complete(qid, "success")
        self.srv.cli("order", "hold", qid, "--reason", "协查调单")
        self.assertEqual([n["resultcode"] for n in self.notifies(key, 2, m["key"])], ["1002", "1004"])
        self.assertEqual(self.balances(m["id"]), (0, 0, 9900))
        again = self.srv.cli("order", "hold", qid, check=False, json_out=False)
        self.assertNotEqual(again.returncode, 0)
        self.srv.cli("order", "release", qid, "--to", "merchant")
        self.assertEqual(self.balances(m["id"]), (9900, 0, 0), "released to available, not back to pending")
        self.assertTrue(self.srv.ledger_ok()["ok"])

    def test_a_newer_state_supersedes_an_unacknowledged_back_notify(self):
        # The merchant's server fails the 0000 notify; the operator holds the order meanwhile. The merchant must
        # never acknowledge the old 0000 after the 1004 (it would believe frozen money available).
        m, c = self.merchant()
        key = unique("bsuper")
        self.rx.script(key, ["fail"] * 5, default="0000")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        c.complete(qid, "success")
        self.rx.wait_count(key, 4, timeout=10)
        self.srv.cli("order", "hold", qid, "--reason", "协查调单")
        wait_until(lambda: any(back_notify_of(r, m["key"])["resultcode"] == "1004" for r in self.rx.for_key(key)),
                   desc="the 1004 notify")
        time.sleep(3 * 6 * UNIT + SLACK)  # past where the 0000 schedule would have gone on
        codes = [back_notify_of(r, m["key"])["resultcode"] for r in self.rx.for_key(key)]
        first_held = codes.index("1004")
        self.assertEqual(set(codes[:first_held]), {"0000"}, codes)
        self.assertEqual(set(codes[first_held:]), {"1004"}, codes)
        self.assertGreaterEqual(len(codes) - first_held, 2, "the 1004 is retried until acknowledged: %s" % codes)
        states = {n["state"] for n in self.srv.cli("notify", "list", "--order", qid)}
        self.assertEqual(states, {"superseded", "delivered"})

    def test_a_newer_state_waits_for_the_attempt_in_flight_and_no_longer(self):
        m, c = self.merchant()
        key = unique("binflight")
        self.rx.script(key, [("hang", 1.0, "fail")], default="0000")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        c.complete(qid, "success")
        self.rx.wait_count(key, 1, timeout=10)  # the 0000 attempt is in flight, answered in 1 s
        self.srv.cli("order", "hold", qid, "--reason", "协查调单")
        recs = self.rx.wait_count(key, 2, timeout=10)
        codes = [back_notify_of(r, m["key"])["resultcode"] for r in recs]
        self.assertEqual(codes, ["0000", "1004"])
        waited = recs[1]["t"] - recs[0]["t"]
        self.assertGreaterEqual(waited, 1.0 - 0.05, "sent before the attempt in flight ended")
        self.assertLess(waited, 1.0 + 2.0, "held back longer than the attempt in flight")
        time.sleep(3 * 6 * UNIT + SLACK)
        self.assertEqual(len(self.rx.for_key(key)), 2, "the 0000 is not retried after it")
        attempts = {n["state"]: n["attempts_made"] for n in self.srv.cli("notify", "list", "--order", qid)}
        self.assertEqual(attempts, {"superseded": 1, "delivered": 1}, "the attempt in flight is recorded")

    def test_back_notify_schedule_until_0000(self):
        m, c = self.merchant()
        key = unique("bsched")
        self.rx.script(key, ["fail", "success", "", ("status", 500, "busy"), "0001", " 0000\r\n"], default="0000")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        c.complete(qid, "success")
        recs = self.rx.wait_count(key, 6, timeout=15)
        time.sleep(18 * UNIT + SLACK)
        recs = self.rx.for_key(key)
        self.assertEqual(len(recs), 6, "delivered on the 6th attempt, when the body is 0000")
        gaps = [recs[i + 1]["t"] - recs[i]["t"] for i in range(5)]
        for g in gaps[:3]:
            self.assertGreaterEqual(g, UNIT - 0.05, gaps)
            self.assertLess(g, UNIT + SLACK, gaps)
        for g in gaps[3:]:
            self.assertGreaterEqual(g, 6 * UNIT - 0.05, gaps)

    def test_back_notify_gives_up_after_ten_attempts(self):
        m, c = self.merchant()
        key = unique("bnever")
        self.rx.script(key, [], default="success")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        c.complete(qid, "success")
        self.rx.wait_count(key, 10, timeout=3 * UNIT + 3 * 6 * UNIT + 3 * 18 * UNIT + 10)
        time.sleep(18 * UNIT + SLACK)
        self.assertEqual(len(self.rx.for_key(key)), 10)

    def test_front_notify_redirect_is_signed(self):
        m, c = self.merchant()
        front = "https://shop.example.com/done?from=cashier"
        req, qid = c.pay_ok(self, txnamt=888, fronturl=front)
        c.complete(qid, "success")
        r = http_request(self.srv.port, "GET", "/cashier/return?id=" + qid)
        self.assertEqual(r.status, 302)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(front + "&resp="), loc)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        resp = cashier_open(q["resp"][0], q["sign"][0], m["key"])
        self.assertEqual(list(resp.keys()), ["resultcode", "resultmsg", "queryid", "txnamt", "merid", "orderid"])
        self.assertEqual((resp["resultcode"], resp["queryid"], resp["txnamt"], resp["orderid"]),
                         ("0000", qid, 888, req["orderid"]))
        st = http_request(self.srv.port, "GET", "/cashier/status?id=" + qid).json
        self.assertEqual(st["status"], 1)
        self.assertTrue(st["returnUrl"].endswith("/cashier/return?id=" + qid), st)

    def test_refusals(self):
        m, c = self.merchant(methods=((1, "0"),))
        # A wrong sign from a known merchant gets a signed answer (DECISIONS.md: the sign is empty only when the
        # merchant could not be identified), but one that carries none of the request's fields: otherwise anyone
        # could get the platform's signature over a 1003 for an order of their choosing, to replay to the
        # merchant's fronturl.
        bad = c.pay(c.pay_request(txnamt=777), secret="wrong", accept_json=True).json
        self.assertEqual(bad["sign"], hashlib.md5((bad["resp"] + m["key"]).encode()).hexdigest())
        a = json.loads(base64.b64decode(bad["resp"]))
        self.assertEqual(a["resultcode"], "1003")
        self.assertIn("bad sign", a["resultmsg"])
        self.assertEqual((a["queryid"], a["txnamt"], a["merid"], a["orderid"]), ("", 0, str(m["id"]), ""))
        unknown = c.pay(c.pay_request(extra={"merid": "99999999"}), accept_json=True).json
        self.assertEqual(unknown["sign"], "", "no merchant, no key: an empty sign")
        html = c.pay(c.pay_request(txnamt=0))
        self.assertEqual(html.status, 200)
        self.assertIn("text/html", html.header("Content-Type"))
        # Media types compare without case (RFC 9110, 8.3.1), in a list with others too.
        for accept in ("Application/JSON", "text/html;q=0.5, APPLICATION/JSON"):
            j = c.pay(c.pay_request(txnamt=0), accept_json=accept)
            self.assertIn("application/json", j.header("Content-Type"), accept)
            self.assertIn("txnamt", json.loads(base64.b64decode(j.json["resp"]))["resultmsg"], accept)
        for request, msg in [  # noqa: each refused with a signed 1003
            (c.pay_request(action="AliPay"), "not enabled"),
            (c.pay_request(action="Arbi"), "two or more"),
            (c.pay_request(orderid="short"), "orderid"),
            (c.pay_request(accname="张三", accno="11010519491231002X"), "bound-card"),
            (c.pay_request(omit=("backurl",)), "backurl"),
        ]:
            j = c.pay(request, accept_json=True).json
            self.assertNotEqual(j["sign"], "", (request, j))
            r = cashier_open(j["resp"], j["sign"], m["key"])
            self.assertEqual(r["resultcode"], "1003", request)
            self.assertIn(msg, r["resultmsg"], request)
        req, qid = c.pay_ok(self)
        j = c.pay(dict(req, txnamt=req["txnamt"] + 1), accept_json=True).json
        dup = cashier_open(j["resp"], j["sign"], m["key"])
        self.assertIn("duplicate orderid", dup["resultmsg"])

    def test_query_failures(self):
        m, c = self.merchant()
        self.assertEqual(c.query_answer(orderid="NOSUCHORDER1")["respcode"], "04")
        bad = c.query(orderid="NOSUCHORDER1", secret="wrong").json
        self.assertEqual(bad["sign"], hashlib.md5((bad["resp"] + m["key"]).encode()).hexdigest(),
                         "a known merchant's answer is signed, a wrong sign's too (DECISIONS.md)")
        self.assertEqual(json.loads(base64.b64decode(bad["resp"]))["respcode"], "02")
        self.assertEqual(c.query_answer()["respcode"], "01")

    def test_bound_card_payment_shows_the_id_masked(self):
        m, c = self.merchant(bound_card=True)
        _, qid = c.pay_ok(self, accname="张三", accno="11010519491231002X")
        page = http_request(self.srv.port, "GET", "/cashier?id=" + qid).text
        self.assertIn("1101**********002X", page)
        self.assertNotIn("11010519491231002X", page)


class RealSpacingTests(PaygateTestCase):
    """One back notify on the document's real spacing: the 2nd attempt 10 s after the 1st."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="cashier-real", cashier_retry_unit_ms=10000)
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver(default="0000").start()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def test_second_attempt_ten_seconds_later(self):
        m = self.srv.new_merchant()
        self.srv.enable_channel(m["id"], 1)
        c = CashierClient(self.srv, m)
        key = unique("real")
        self.rx.script(key, ["nope"], default="0000")
        _, qid = c.pay_ok(self, backurl=self.rx.url(key))
        c.complete(qid, "success")
        recs = self.rx.wait_count(key, 2, timeout=20)
        gap = recs[1]["t"] - recs[0]["t"]
        self.assertGreaterEqual(gap, 9.95)
        self.assertLess(gap, 10.0 + SLACK + 0.3)


if __name__ == "__main__":
    unittest.main()
