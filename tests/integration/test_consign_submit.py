"""consign submit (POST /api/consignmentOrders): the end-to-end paths, validation, duplicates, batches, HTTP."""

import json
import threading
import time
import unittest
import urllib.parse
from decimal import Decimal

import harness
from harness import (PRODUCT_MAIN, PRODUCT_NOCUSTOM, PRODUCT_OTHER, ConsignClient, PaygateTestCase, Receiver,
                     Server, amount_fen, assert_query_data_types, assert_submit_ok, assert_submit_rejected,
                     fen_to_yuan, now, raw_amount_in, sign_notify, unique, wait_until)

ALREADY_SUBMITTED = r"(?i)(already.*submit|submit.*already|已.*提交|重复)"


class SubmitTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(retry_step_ms=300, name="submit")
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.m = cls.srv.new_merchant()
        cls.c = ConsignClient(cls.srv, cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    # ----------------------------------------------------------------------------------------- helpers

    def fresh(self, products=(PRODUCT_MAIN, PRODUCT_NOCUSTOM)):
        m = self.srv.new_merchant(products=products)
        return m, ConsignClient(self.srv, m)

    def reject(self, r, what, pattern=None):
        """Asserts the protocol rejection and that no order was created under the submitted orderId."""
        msg = assert_submit_rejected(self, r, "(%s)" % what, pattern)
        f = getattr(r, "fields", None)
        if f and f.get("orderId") and f.get("customerId") == self.c.customer_id:
            q = self.c.query(f["orderId"])
            self.assertEqual(q.json.get("code"), "2",
                             "a rejected submit (%s) must create nothing; query answered %s" % (what, q.text))
        return msg

    def cli_status(self, sid):
        return self.srv.order_show(sid)["status"]

    def wait_cli_status(self, sid, status, timeout=15.0):
        return wait_until(lambda: self.cli_status(sid) == status, timeout, 0.1,
                          "order %s to show CLI status %s" % (sid, status))

    def verify_notify(self, rec, m, expect):
        form = rec["form"]
        self.assertEqual(rec["method"], "POST")
        self.assertIn("application/x-www-form-urlencoded", rec["content_type"])
        self.assertEqual(form.get("sign"), sign_notify(form, m["key"]),
                         "notify sign must be MD5 UPPER over the documented fields: %r" % form)
        self.assertEqual(form["sign"], form["sign"].upper())
        self.assertEqual(len(form["sign"]), 32)
        for k, v in expect.items():
            self.assertEqual(form.get(k), v, "notify field %s: %r" % (k, form))

    # ------------------------------------------------------------------------------------------- paths

    def test_success_end_to_end(self):
        m, c = self.fresh()
        key = unique("ok")
        custom = "ext=1&x=hello 世界"
        r = c.submit(face=100, notify_url=self.rx.url(key), custom=custom)
        sid = assert_submit_ok(self, r)
        order_id = r.fields["orderId"]
        d = c.wait_status(order_id, "2")
        q = c.query(order_id)
        assert_query_data_types(self, q.json["data"][0], q.text)
        self.assertEqual(d["sysOrderId"], sid)
        self.assertEqual(d["orderId"], order_id)
        self.assertEqual(d["customerId"], str(m["id"]))
        self.assertEqual(d["faceMoney"], 100)
        self.assertEqual(d["realMoney"], 100)
        self.assertEqual(d["amount"], Decimal("96.50"))
        self.assertTrue(raw_amount_in(q.text, "96.50"), q.text)
        self.assertGreater(d["successTime"], 0)
        self.assertLess(abs(d["successTime"] - now()), 120, "successTime is Unix seconds: %r" % d)
        self.assertEqual(d["custom"], custom)
        # notify
        recs = self.rx.wait_count(key, 1)
        self.verify_notify(recs[0], m, {"customerId": str(m["id"]), "sysOrderId": sid, "orderId": order_id,
                                        "status": "2", "faceMoney": "100", "realMoney": "100",
                                        "amount": "96.50", "successTime": str(d["successTime"]),
                                        "custom": custom})
        # balance and CLI view
        self.assertEqual(self.srv.balance_fen(m["id"]), 9650)
        b = self.srv.cli("merchant", "balance", m["id"])
        self.assertEqual(b.get("merchantId"), m["id"])
        self.assertEqual(b.get("available"), "96.50")
        show = self.srv.order_show(sid)
        self.assertEqual(show["status"], "success")
        self.assertEqual(show["sysOrderId"], sid)
        self.assertEqual(show["orderId"], order_id)
        self.assertEqual(show["amount"], "96.50")
        self.assertEqual(show["realMoney"], 100)
        time.sleep(1.2)   # 4 retry steps: an acknowledged notify is never sent again
        self.assertEqual(len(self.rx.for_key(key)), 1)

    def test_failure(self):
        m, c = self.fresh()
        key = unique("fail")
        r = c.submit(face=100, password=unique("FAIL-"), notify_url=self.rx.url(key))
        sid = assert_submit_ok(self, r)
        order_id = r.fields["orderId"]
        d = c.wait_status(order_id, "3")
        q = c.query(order_id)
        assert_query_data_types(self, q.json["data"][0], q.text)
        self.assertEqual(d["faceMoney"], 100)
        self.assertEqual(d["realMoney"], 0, "a failed card has no value found: %r" % d)
        self.assertEqual(d["amount"], Decimal("0.00"), "amount is what is credited; a failure credits nothing")
        self.assertTrue(raw_amount_in(q.text, "0.00"), q.text)
        self.assertGreater(d["successTime"], 0, "successTime is the time of the final state, failed included")
        self.assertEqual(self.srv.balance_fen(m["id"]), 0)
        self.assertEqual(self.cli_status(sid), "failed")
        recs = self.rx.wait_count(key, 1)
        self.verify_notify(recs[0], m, {"sysOrderId": sid, "orderId": order_id, "status": "3",
                                        "faceMoney": "100", "realMoney": "0", "amount": "0.00"})

    def test_partial_value(self):
        m, c = self.fresh()
        r = c.submit(face=100, password=unique("REAL50-"))
        assert_submit_ok(self, r)
        d = c.wait_status(r.fields["orderId"], "2")
        self.assertEqual(d["faceMoney"], 100)
        self.assertEqual(d["realMoney"], 50)
        self.assertEqual(d["amount"], Decimal("48.25"))
        self.assertEqual(self.srv.balance_fen(m["id"]), 4825)

    def test_rounding_half_up(self):
        m, c = self.fresh()
        total = 0
        for real, expect in ((1, "0.97"), (5, "4.83"), (7, "6.76")):
            r = c.submit(face=50, password=unique("REAL%d-" % real))
            assert_submit_ok(self, r)
            d = c.wait_status(r.fields["orderId"], "2")
            self.assertEqual(d["realMoney"], real)
            self.assertEqual(fen_to_yuan(amount_fen(real, "96.5")), expect)
            self.assertEqual(d["amount"], Decimal(expect), "%d x 96.5%% rounded half-up" % real)
            total += amount_fen(real, "96.5")
        self.assertEqual(self.srv.balance_fen(m["id"]), total)

    def test_manual_review_resolve_success(self):
        m, c = self.fresh()
        key = unique("rev")
        r = c.submit(face=100, password=unique("HOLD-"), notify_url=self.rx.url(key))
        sid = assert_submit_ok(self, r)
        order_id = r.fields["orderId"]
        self.wait_cli_status(sid, "review")
        d = c.query_one(order_id)
        self.assertEqual(d["status"], "1")
        self.assertEqual(d["successTime"], 0)
        self.assertEqual(d["realMoney"], 0)
        self.assertEqual(d["amount"], Decimal("0.00"))
        time.sleep(0.5)
        self.assertEqual(self.cli_status(sid), "review", "a HOLD card waits for review")
        self.assertEqual(self.rx.for_key(key), [], "no notify before the final state")
        self.srv.cli("order", "resolve", sid, "--success", "--real-money", "80", json_out=False)
        d = c.wait_status(order_id, "2")
        self.assertEqual(d["realMoney"], 80)
        self.assertEqual(d["amount"], Decimal("77.20"))
        self.assertGreater(d["successTime"], 0)
        self.assertEqual(self.srv.balance_fen(m["id"]), 7720)
        self.assertEqual(self.cli_status(sid), "success")
        recs = self.rx.wait_count(key, 1)
        self.verify_notify(recs[0], m, {"sysOrderId": sid, "status": "2", "realMoney": "80", "amount": "77.20",
                                        "faceMoney": "100"})
        # Not in review any more: resolve is refused, nothing changes.
        p = self.srv.cli("order", "resolve", sid, "--fail", "--message", "late", json_out=False, check=False)
        self.assertNotEqual(p.returncode, 0, "resolve of a non-review order must fail")
        self.assertTrue((p.stdout + p.stderr).strip(), "resolve failure must say why")
        self.assertEqual(self.srv.balance_fen(m["id"]), 7720)
        self.assertEqual(c.query_one(order_id)["status"], "2")

    def test_manual_review_resolve_fail(self):
        m, c = self.fresh()
        key = unique("revf")
        r = c.submit(face=100, password=unique("HOLD-"), notify_url=self.rx.url(key))
        sid = assert_submit_ok(self, r)
        order_id = r.fields["orderId"]
        self.wait_cli_status(sid, "review")
        self.srv.cli("order", "resolve", sid, "--fail", "--message", "card already used", json_out=False)
        d = c.wait_status(order_id, "3")
        self.assertIn("card already used", d["message"])
        self.assertEqual(d["realMoney"], 0)
        self.assertEqual(d["amount"], Decimal("0.00"))
        self.assertGreater(d["successTime"], 0)
        self.assertEqual(self.srv.balance_fen(m["id"]), 0)
        self.assertEqual(self.cli_status(sid), "failed")
        recs = self.rx.wait_count(key, 1)
        self.verify_notify(recs[0], m, {"sysOrderId": sid, "status": "3", "amount": "0.00"})
        p = self.srv.cli("order", "resolve", sid, "--success", "--real-money", "100", json_out=False, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.srv.balance_fen(m["id"]), 0)

    def test_resolve_refused_for_order_not_in_review(self):
        m, c = self.fresh()
        r = c.submit(face=100)
        sid = assert_submit_ok(self, r)
        c.wait_status(r.fields["orderId"], "2")
        p = self.srv.cli("order", "resolve", sid, "--success", "--real-money", "50", json_out=False, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue((p.stdout + p.stderr).strip())
        d = c.query_one(r.fields["orderId"])
        self.assertEqual((d["status"], d["realMoney"], d["amount"]), ("2", 100, Decimal("96.50")))
        self.assertEqual(self.srv.balance_fen(m["id"]), 9650)

    def test_product_type_image_and_link_go_to_review(self):
        for ptype, plain in (("1", "https://img.example.com/cards/%s.png" % unique()),
                             ("2", "https://redeem.example.com/r?c=%s" % unique())):
            r = self.c.submit(face=100, product_type=ptype, password=plain, card_number=None)
            sid = assert_submit_ok(self, r, "productType %s" % ptype)
            self.wait_cli_status(sid, "review")
            time.sleep(0.3)
            self.assertEqual(self.cli_status(sid), "review", "productType %s must wait for review" % ptype)
            self.assertEqual(self.c.query_one(r.fields["orderId"])["status"], "1")

    # ------------------------------------------------------------------------------------------ custom rate

    def test_custom_rate_used_for_amount(self):
        m, c = self.fresh()
        r = c.submit(face=50, customize_rate="97.3")
        assert_submit_ok(self, r)
        d = c.wait_status(r.fields["orderId"], "2")
        self.assertEqual(d["amount"], Decimal("48.65"))
        r = c.submit(face=100, customize_rate="90")
        assert_submit_ok(self, r, "rate at the lower bound")
        d = c.wait_status(r.fields["orderId"], "2")
        self.assertEqual(d["amount"], Decimal("90.00"))
        r = c.submit(face=100, customize_rate="99.0")
        assert_submit_ok(self, r, "rate at the upper bound")
        d = c.wait_status(r.fields["orderId"], "2")
        self.assertEqual(d["amount"], Decimal("99.00"))
        self.assertEqual(self.srv.balance_fen(m["id"]), 4865 + 9000 + 9900)

    def test_custom_rate_rejected(self):
        for rate in ("89.9", "99.1", "100", "0", "-95", "97.35", "96.55", "abc", "9 7"):
            r = self.c.submit(face=100, customize_rate=rate)
            self.reject(r, "customizeRate %r" % rate)
        r = self.c.submit(face=100, product=PRODUCT_NOCUSTOM, customize_rate="95")
        self.reject(r, "customizeRate on a product without custom rates")

    # ------------------------------------------------------------------------------------------- validation

    def test_missing_required_fields(self):
        for field in ("customerId", "timestamp", "orderId", "productType", "batchno", "productCode",
                      "cardPassword", "faceMoney", "sign"):
            r = self.c.submit(omit=(field,))
            self.reject(r, "missing %s" % field)
            if field != "sign":
                r = self.c.submit(extra={field: ""})
                # extra is applied before signing, so the empty value is signed as received
                self.reject(r, "empty %s" % field)

    def test_bad_signature(self):
        r = self.c.submit(secret="not-the-key")
        self.reject(r, "signed with another key")
        f = self.c.submit_fields(face=100)
        f["faceMoney"] = "200"          # tampered after signing
        r = self.c.send_submit(f)
        r.fields = f
        self.reject(r, "faceMoney changed after signing")
        f = self.c.submit_fields()
        f["sign"] = f["sign"][:-1] + ("0" if f["sign"][-1] != "0" else "1")
        r = self.c.send_submit(f)
        r.fields = f
        self.reject(r, "one hex digit off")
        f = self.c.submit_fields()
        f["sign"] = ""
        r = self.c.send_submit(f)
        r.fields = f
        self.reject(r, "empty sign")

    def test_lowercase_sign_accepted(self):
        f = self.c.submit_fields()
        f["sign"] = f["sign"].lower()
        r = self.c.send_submit(f)
        assert_submit_ok(self, r, "lowercase hex sign")

    def test_unsigned_fields_not_in_signature(self):
        # productType, customizeRate, seCode and custom are not signed: changing them keeps the sign valid.
        f = self.c.submit_fields(face=100, custom="a")
        f["custom"] = "changed after signing"
        f["seCode"] = "123"
        r = self.c.send_submit(f)
        assert_submit_ok(self, r, "unsigned fields changed after signing")

    def test_timestamp_skew(self):
        for delta in (-301, 301, -3600, 100000):
            r = self.c.submit(timestamp=now() + delta)
            self.reject(r, "timestamp now%+d" % delta)
        r = self.c.submit(timestamp="abc")
        self.reject(r, "non-numeric timestamp")
        for delta in (-299, 0, 299):
            r = self.c.submit(timestamp=now() + delta)
            assert_submit_ok(self, r, "timestamp now%+d" % delta)

    def test_unknown_customer(self):
        for cid in ("99999999", "0", "abc"):
            r = self.c.submit(customer_id=cid)
            self.reject(r, "unknown customerId %s" % cid)

    def test_disabled_merchant(self):
        m, c = self.fresh()
        self.srv.cli("merchant", "disable", m["id"], json_out=False)
        show = self.srv.cli("merchant", "show", m["id"])
        self.assertIs(show.get("enabled"), False, "merchant show after disable: %r" % show)
        listed = [x for x in self.srv.cli("merchant", "list") if x.get("id") == m["id"]]
        self.assertEqual(len(listed), 1)
        self.assertIs(listed[0].get("enabled"), False)
        r = c.submit()
        assert_submit_rejected(self, r, "(disabled merchant)")
        self.srv.cli("merchant", "enable", m["id"], json_out=False)
        r = c.submit()
        assert_submit_ok(self, r, "merchant enabled again")

    def test_unknown_product(self):
        r = self.c.submit(product="NO-SUCH-PRODUCT")
        self.reject(r, "unknown productCode")

    def test_product_not_enabled_for_merchant(self):
        r = self.c.submit(product=PRODUCT_OTHER)
        self.reject(r, "product not enabled for the merchant")
        m, c = self.fresh()
        r = c.submit(product=PRODUCT_NOCUSTOM, face=50)
        assert_submit_ok(self, r)
        self.srv.cli("product", "enable", "--merchant", m["id"], "--code", PRODUCT_NOCUSTOM, "--disable",
                     json_out=False)
        r = c.submit(product=PRODUCT_NOCUSTOM, face=50)
        assert_submit_rejected(self, r, "(product disabled for the merchant)")

    def test_face_value_not_accepted(self):
        for face in ("75", "0", "-100", "1000", "20"):
            r = self.c.submit(face=face)
            self.reject(r, "faceMoney %s" % face)
        r = self.c.submit(face="200", product=PRODUCT_NOCUSTOM)
        self.reject(r, "faceMoney 200 is not a face value of %s" % PRODUCT_NOCUSTOM)

    def test_non_integer_face_money(self):
        for face in ("100.0", "100.00", "1e2", "abc", "100yuan", "0x64"):
            r = self.c.submit(face=face)
            self.reject(r, "faceMoney %r" % face)

    def test_undecryptable_password(self):
        bad = harness.undecryptable_password_hex(self.c.aes_key)
        r = self.c.submit(encrypted_password=bad)
        self.reject(r, "password encrypted with another key")
        r = self.c.submit(encrypted_password="zzzz")
        self.reject(r, "cardPassword not hex")
        r = self.c.submit(encrypted_password="abc")
        self.reject(r, "cardPassword odd-length hex")
        r = self.c.submit(encrypted_password=b"not base64!!".hex())
        self.reject(r, "cardPassword hex of non-base64")
        # uppercase hex of a good encryption is accepted
        r = self.c.submit(encrypted_password=self.c.encrypt(unique("PW-")).upper())
        assert_submit_ok(self, r, "uppercase hex cardPassword")

    def test_order_id_length(self):
        r = self.c.submit(order_id=unique("L").ljust(51, "x"))
        self.reject(r, "orderId of 51 characters")
        r = self.c.submit(order_id=unique("L").ljust(50, "x"))
        assert_submit_ok(self, r, "orderId of 50 characters")

    def test_notify_url_must_be_http(self):
        for url in ("ftp://127.0.0.1/notify", "javascript:alert(1)", "file:///etc/passwd", "127.0.0.1:8080/n",
                    "gopher://127.0.0.1:70/x", "notaurl"):
            r = self.c.submit(notify_url=url)
            self.reject(r, "notifyUrl %r" % url)
        r = self.c.submit(notify_url=self.rx.url(unique("https-ok")).replace("http://", "https://"))
        assert_submit_ok(self, r, "https notifyUrl")

    def test_rotate_keys(self):
        m, c = self.fresh()
        r = c.submit()
        sid = assert_submit_ok(self, r)
        new = self.srv.cli("merchant", "rotate-keys", m["id"])
        self.assertEqual(new.get("id"), m["id"])
        self.assertEqual(set(new), {"id", "appKey", "key", "aesKey"}, new)
        self.assertNotEqual(new["key"], m["key"])
        self.assertNotEqual(new["aesKey"], m["aesKey"])
        self.assertEqual(len(new["aesKey"]), 16)
        r = c.submit()
        assert_submit_rejected(self, r, "(signed with the key before rotation)")
        c2 = ConsignClient(self.srv, dict(m, key=new["key"], aesKey=new["aesKey"]))
        r = c2.submit()
        assert_submit_ok(self, r, "new keys")
        self.assertEqual(c2.query_one(sid)["sysOrderId"], sid, "old orders stay queryable with the new key")
        # a password encrypted under the old AES key, signed with the new key, does not decrypt
        r = c2.submit(encrypted_password=harness.undecryptable_password_hex(new["aesKey"], m["aesKey"]))
        assert_submit_rejected(self, r, "(password under the old AES key)")

    # ----------------------------------------------------------------------------------------------- batch

    def run_concurrently(self, jobs, n_threads):
        """Run callables over n_threads keep-alive connections; job(conn) -> Response. Returns the responses."""
        results = [None] * len(jobs)
        errors = []

        def worker(k):
            conn = self.srv.connection()
            try:
                for i in range(k, len(jobs), n_threads):
                    try:
                        results[i] = jobs[i](conn)
                    except (ConnectionError, OSError, harness.http.client.HTTPException):
                        conn.close()
                        conn = self.srv.connection()
                        results[i] = jobs[i](conn)
            except Exception as e:   # reported below
                errors.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        self.assertEqual(errors, [])
        self.assertNotIn(None, results, "every request answered")
        return results

    def test_batch_full(self):
        m, c = self.fresh()
        batch = unique("BATCH")
        t0 = time.monotonic()
        results = self.run_concurrently([lambda conn: c.submit(conn=conn, batchno=batch, face=100)] * 1980, 4)
        elapsed = time.monotonic() - t0
        bad = [r.text for r in results if r.json.get("code") != 1]
        self.assertEqual(bad[:5], [], "the first 1980 cards of a batch are accepted (%d refused)" % len(bad))
        print("\n1980 submits over 4 keep-alive connections: %.1fs" % elapsed)
        # The last 20 places, raced for by 40 submissions at once: exactly 20 win.
        results = self.run_concurrently([lambda conn: c.submit(conn=conn, batchno=batch, face=100)] * 40, 20)
        won = [r for r in results if r.json.get("code") == 1]
        lost = [r for r in results if r.json.get("code") != 1]
        self.assertEqual(len(won), 20, "exactly 2000 cards per batch under concurrency (got %d of 40 more)"
                         % len(won))
        for r in lost:
            assert_submit_rejected(self, r, "(batch over 2000)")
        r = c.submit(batchno=batch, face=100)
        assert_submit_rejected(self, r, "(2001st card of a batch)")
        r = c.submit(batchno=batch + "-other", face=100)
        assert_submit_ok(self, r, "another batchno of the same merchant")
        r = self.c.submit(batchno=batch, face=100)
        assert_submit_ok(self, r, "the same batchno of another merchant")
        r = c.submit(batchno=batch, face=100)
        assert_submit_rejected(self, r, "(batch still full)")
        listed = self.srv.order_list(m["id"], limit=1000)
        self.assertTrue(all(o.get("batchno", batch) in (batch, batch + "-other") for o in listed))

    def test_concurrent_same_card(self):
        m, c = self.fresh()
        number, pw = unique("CARD"), unique("HOLD-")
        results = self.run_concurrently([lambda conn: c.submit(conn=conn, card_number=number, password=pw)] * 12,
                                        12)
        won = [r for r in results if r.json.get("code") == 1]
        self.assertEqual(len(won), 1, "the same card submitted 12 times at once: exactly one accepted, got %r"
                         % [r.text for r in won])
        for r in results:
            if r.json.get("code") != 1:
                assert_submit_rejected(self, r, "(same card, concurrent)", ALREADY_SUBMITTED)

    def test_concurrent_duplicate_order_id(self):
        m, c = self.fresh()
        order_id = unique("RACE")
        # different business fields (different cards), same orderId: exactly one wins
        results = self.run_concurrently([lambda conn: c.submit(conn=conn, order_id=order_id, face=100)] * 10, 10)
        won = [r for r in results if r.json.get("code") == 1]
        self.assertEqual(len(won), 1, "one orderId, 10 different submissions at once: %r"
                         % [r.text for r in results])
        # identical retries at once: all answered with the same sysOrderId, one order
        f = c.submit_fields(face=100)
        results = self.run_concurrently([lambda conn: c.send_submit(f, conn=conn)] * 10, 10)
        sids = {assert_submit_ok(self, r, "identical concurrent retry") for r in results}
        self.assertEqual(len(sids), 1, sids)
        self.assertEqual(len(self.srv.order_list(m["id"])), 2)

    # ---------------------------------------------------------------------------------------- same card

    def test_same_card_twice(self):
        m, c = self.fresh()
        number, pw = unique("CARD"), unique("PW-")
        r = c.submit(card_number=number, password=pw)
        assert_submit_ok(self, r)
        c.wait_status(r.fields["orderId"], "2")
        r2 = c.submit(card_number=number, password=pw)
        assert_submit_rejected(self, r2, "(same card after success)", ALREADY_SUBMITTED)
        # the same password encrypted and sent as uppercase hex is the same card
        r2 = c.submit(card_number=number, encrypted_password=c.encrypt(pw).upper())
        assert_submit_rejected(self, r2, "(same card, uppercase hex)", ALREADY_SUBMITTED)
        # another merchant submitting the same card: still the same card
        r2 = self.c.submit(card_number=number, password=pw)
        assert_submit_rejected(self, r2, "(same card from another merchant)", ALREADY_SUBMITTED)
        # a different product, or a different card number, is a different card
        r3 = c.submit(card_number=number, password=pw, product=PRODUCT_NOCUSTOM)
        assert_submit_ok(self, r3, "same number+password on another product")
        r3 = c.submit(card_number=unique("CARD"), password=pw)
        assert_submit_ok(self, r3, "same password with another card number")

    def test_same_card_while_processing(self):
        m, c = self.fresh()
        number, pw = unique("CARD"), unique("HOLD-")
        r = c.submit(card_number=number, password=pw)
        sid = assert_submit_ok(self, r)
        self.wait_cli_status(sid, "review")
        r2 = c.submit(card_number=number, password=pw)
        assert_submit_rejected(self, r2, "(same card while in review)", ALREADY_SUBMITTED)
        # without a card number: product + password identify the card
        pw2 = unique("HOLD-")
        assert_submit_ok(self, c.submit(card_number=None, password=pw2))
        assert_submit_rejected(self, c.submit(card_number=None, password=pw2), "(same card, no number)",
                               ALREADY_SUBMITTED)

    def test_same_card_allowed_after_failure(self):
        m, c = self.fresh()
        number, pw = unique("CARD"), unique("FAIL-")
        r = c.submit(card_number=number, password=pw)
        assert_submit_ok(self, r)
        c.wait_status(r.fields["orderId"], "3")
        r2 = c.submit(card_number=number, password=pw)
        assert_submit_ok(self, r2, "the same card again after the first submission failed")
        self.assertNotEqual(r2.json["sysOrderId"], r.json["sysOrderId"])

    # --------------------------------------------------------------------------------------- duplicates

    def test_duplicate_order_id_with_different_fields(self):
        m, c = self.fresh()
        key = unique("dup")
        r = c.submit(face=100, notify_url=self.rx.url(key), custom="first")
        sid = assert_submit_ok(self, r)
        order_id = r.fields["orderId"]
        first = c.wait_status(order_id, "2")
        self.rx.wait_count(key, 1)
        changes = [dict(face=50), dict(password=unique("PW-")), dict(batchno="other"),
                   dict(notify_url=self.rx.url(key + "x")), dict(card_number=unique("CN")),
                   dict(product=PRODUCT_NOCUSTOM)]
        base = dict(face=100, password=r.fields["_plain"], card_number=r.fields["cardNumber"],
                    notify_url=self.rx.url(key), custom="first", batchno=r.fields["batchno"])
        for change in changes:
            kw = dict(base)
            kw.update(change)
            r2 = c.submit(order_id=order_id, **kw)
            assert_submit_rejected(self, r2, "(duplicate orderId with %r)" % change)
        after = c.query_one(order_id)
        self.assertEqual(after, first, "the first order stays exactly as it was")
        self.assertEqual(len(self.srv.order_list(m["id"])), 1)
        self.assertEqual(self.srv.balance_fen(m["id"]), 9650)
        time.sleep(0.5)
        self.assertEqual(len(self.rx.for_key(key)), 1)
        self.assertEqual(self.rx.for_key(key + "x"), [])
        self.assertEqual(self.srv.order_show(sid)["status"], "success")

    def test_duplicate_order_id_while_in_review(self):
        m, c = self.fresh()
        r = c.submit(face=100, password=unique("HOLD-"))
        sid = assert_submit_ok(self, r)
        self.wait_cli_status(sid, "review")
        r2 = c.submit(order_id=r.fields["orderId"], face=200, password=unique("PW-"))
        assert_submit_rejected(self, r2, "(duplicate orderId, order in review)")
        self.assertEqual(self.cli_status(sid), "review")
        self.assertEqual(c.query_one(r.fields["orderId"])["faceMoney"], 100)

    def test_identical_retry(self):
        m, c = self.fresh()
        key = unique("retry")
        r = c.submit(face=100, notify_url=self.rx.url(key), custom="orig")
        sid = assert_submit_ok(self, r)
        # retry at once (the order may still be processing), with a new timestamp and sign
        time.sleep(1.1)
        f = c.resign(r.fields, timestamp=now())
        self.assertNotEqual(f["timestamp"], r.fields["timestamp"])
        r2 = c.send_submit(f)
        self.assertEqual(assert_submit_ok(self, r2, "identical retry"), sid)
        order_id = r.fields["orderId"]
        c.wait_status(order_id, "2")
        self.rx.wait_count(key, 1)
        # retry after success
        r3 = c.send_submit(c.resign(r.fields, timestamp=now()))
        self.assertEqual(assert_submit_ok(self, r3, "retry after success"), sid)
        # a changed unsigned field (custom) is still the same business fields: a retry
        f = c.resign(dict(r.fields, custom="changed"), timestamp=now())
        r4 = c.send_submit(f)
        self.assertEqual(assert_submit_ok(self, r4, "retry with another custom (unsigned)"), sid)
        time.sleep(0.8)
        self.assertEqual(len(self.srv.order_list(m["id"])), 1, "a retry creates nothing")
        self.assertEqual(self.srv.balance_fen(m["id"]), 9650, "credited once")
        d = c.query_one(order_id)
        self.assertEqual(d["custom"], "orig", "the first order stays as it was")
        self.assertEqual(len(self.rx.for_key(key)), 1, "a retry sends no new notify")

    def test_zz_ledger_and_listing(self):
        """Runs last in this class: the ledger balances after everything above; the listing filters work."""
        m, c = self.fresh()
        sids = {}
        for status, pw in (("review", "HOLD-"), ("success", "PW-"), ("failed", "FAIL-")):
            sids[status] = assert_submit_ok(self, c.submit(face=100, password=unique(pw)))
            self.wait_cli_status(sids[status], status)
        p = self.srv.cli("ledger", "check", json_out=False, check=False)
        self.assertEqual(p.returncode, 0, "ledger check: %s %s" % (p.stdout, p.stderr))
        self.assertIs(self.srv.cli("ledger", "check").get("ok"), True)
        for status, sid in sids.items():
            orders = self.srv.order_list(m["id"], status=status)
            self.assertEqual([o["sysOrderId"] for o in orders], [sid], "order list --status %s" % status)
            self.assertEqual(orders[0]["status"], status)
            self.assertEqual(orders[0]["merchantId"], m["id"])
        self.assertEqual(len(self.srv.order_list(m["id"])), 3)
        everyone = self.srv.order_list(status="review", limit=1000)
        self.assertEqual({o["status"] for o in everyone}, {"review"})
        self.assertIn(sids["review"], {o["sysOrderId"] for o in everyone})

    # --------------------------------------------------------------------------------------------- JSON

    def test_json_body(self):
        r = self.c.submit(as_json=True, face=100)
        assert_submit_ok(self, r, "JSON body with string values")
        d = self.c.wait_status(r.fields["orderId"], "2")
        self.assertEqual(d["sysOrderId"], r.json["sysOrderId"])

    def test_multipart_form_body(self):
        # PHP's curl given an array of fields (and curl -F) sends multipart/form-data; the fields are the same.
        f = self.c.submit_fields(face=100, custom="a&b=c %41")
        wire = {k: v for k, v in f.items() if not k.startswith("_")}
        r = harness.post_multipart(self.srv.port, "/api/consignmentOrders", wire)
        assert_submit_ok(self, r, "multipart/form-data body")
        q = harness.post_multipart(self.srv.port, "/api/searchOrders", self.c.query_fields(f["orderId"]))
        self.assertEqual(q.json["code"], "1", q)
        self.assertEqual(q.json["data"][0]["custom"], "a&b=c %41")  # taken as sent, nothing decoded
        # A file part, or a broken body, is refused in the protocol's own format, and nothing is stored.
        g = self.c.submit_fields(face=100)
        body, ctype = harness.multipart_body({k: v for k, v in g.items() if not k.startswith("_")})
        self.assertIn(b'name="batchno"', body)
        body = body.replace(b'name="batchno"', b'name="batchno"; filename="b.txt"', 1)
        bad = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders", body=body,
                                   headers={"Content-Type": ctype})
        self.assertEqual((bad.status, bad.json["code"]), (200, -1), bad)
        self.assertIn("file", bad.json["msg"])
        whole, _ = harness.multipart_body({k: v for k, v in g.items() if not k.startswith("_")})
        cut = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders", body=whole[:-20],
                                   headers={"Content-Type": ctype})
        self.assertEqual((cut.status, cut.json["code"]), (200, -1), cut)
        self.assertEqual(self.c.query(g["orderId"]).json["code"], "2")

    def test_repeated_and_non_utf8_fields_refused(self):
        # A field sent twice (nobody can tell which value was signed) or bytes that are not UTF-8 (the document signs
        # UTF-8; a GBK custom came back as U+FFFD in the query and raw in the notify): code -1, nothing stored.
        f = self.c.submit_fields(face=100)
        wire = [(k, v) for k, v in f.items() if not k.startswith("_")]
        body = urllib.parse.urlencode(wire + [("faceMoney", "50")]).encode()
        r = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders", body=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.json["code"], r.json["msg"]),
                         (200, -1, "field faceMoney appears more than once; send each field once"), r)
        j = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders",
                                 body=json.dumps(dict(wire))[:-1].encode() + b', "faceMoney": "50"}',
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(j.json["code"], -1, j)
        self.assertIn("appears more than once", j.json["msg"])
        gbk = urllib.parse.urlencode([(k, v) for k, v in wire] + [("custom", "中文".encode("gbk"))]).encode()
        g = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders", body=gbk,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((g.json["code"], g.json["msg"]),
                         (-1, "custom is not UTF-8: send Chinese and other non-ASCII text UTF-8 encoded"), g)
        self.assertEqual(self.c.query(f["orderId"]).json["code"], "2", "nothing stored")
        self.assertEqual(self.c.send_submit(f).json["code"], 1, "the same fields sent once are accepted")

    def test_json_body_with_numbers(self):
        # A merchant's Java client sends the long/int fields as JSON numbers; they are signed as written.
        f = self.c.submit_fields(face=100)
        wire = {k: v for k, v in f.items() if not k.startswith("_")}
        for k in ("customerId", "timestamp", "faceMoney", "productType"):
            wire[k] = int(wire[k])
        r = self.srv.post_json("/api/consignmentOrders", wire)
        assert_submit_ok(self, r, "JSON body with numbers")

    # --------------------------------------------------------------------------------------------- HTTP

    def assert_4xx(self, out, name):
        st = harness.status_of_raw(out)
        self.assertIsNotNone(st, "%s: expected an HTTP 4xx answer, got %r" % (name, out[:200]))
        self.assertTrue(400 <= st < 500, "%s: expected 4xx, got %r" % (name, out[:300]))

    def test_malformed_http(self):
        port = self.srv.port
        cases = {
            "garbage request line": b"GARBAGE\r\n\r\n",
            "bad content-length": (b"POST /api/consignmentOrders HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/x-www-form-urlencoded\r\n"
                                   b"Content-Length: abc\r\n\r\n"),
            "bad chunk size": (b"POST /api/consignmentOrders HTTP/1.1\r\nHost: x\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        }
        for name, data in cases.items():
            self.assert_4xx(harness.raw_exchange(port, data), name)
        # A header block over the limit: a 4xx, or at least a closed connection, never a 5xx.
        pieces = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n"] + [b"X-Big-%d: %s\r\n" % (i, b"a" * 4000)
                                                               for i in range(10)] + [b"\r\n"]
        out = harness.raw_stream(port, pieces)
        st = harness.status_of_raw(out)
        self.assertTrue(st is None and out == b"" or st is not None and 400 <= st < 500,
                        "header block over the limit: %r" % out[:300])
        self.assertEqual(self.srv.get("/healthz").status, 200)

    def test_oversized_body(self):
        port = self.srv.port
        body = b"a=" + b"x" * (70 * 1024)
        head = (b"POST /api/consignmentOrders HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        pieces = [head] + [body[i:i + 8192] for i in range(0, len(body), 8192)]
        self.assert_4xx(harness.raw_stream(port, pieces), "body of 70 KiB with Content-Length")
        chunk = b"x" * 8192
        pieces = [b"POST /api/consignmentOrders HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"]
        pieces += [b"2000\r\n" + chunk + b"\r\n"] * 10 + [b"0\r\n\r\n"]
        self.assert_4xx(harness.raw_stream(port, pieces), "chunked body of 80 KiB")
        # JSON too
        big = b'{"custom":"' + b"x" * (70 * 1024) + b'"}'
        head = (b"POST /api/consignmentOrders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(big))
        pieces = [head] + [big[i:i + 8192] for i in range(0, len(big), 8192)]
        self.assert_4xx(harness.raw_stream(port, pieces), "JSON body of 70 KiB")
        self.assertEqual(self.srv.get("/healthz").status, 200)

    def test_odd_bodies_never_500(self):
        bodies = [
            ("application/x-www-form-urlencoded", b"%zz=%%%&sign=1"),
            ("application/x-www-form-urlencoded", b""),
            ("application/json", b"{not json"),
            ("application/json", b"[1,2,3]"),
            ("application/json", b'{"customerId": {"a": 1}}'),
            ("text/plain", b"hello"),
            ("application/x-www-form-urlencoded", b"customerId=1&customerId=2"),
            ("application/x-www-form-urlencoded", "orderId=\u00ff\u4e16&x=\x00".encode("utf-8")),
        ]
        for ctype, body in bodies:
            r = harness.http_request(self.srv.port, "POST", "/api/consignmentOrders", body=body,
                                     headers={"Content-Type": ctype})
            self.assertNotEqual(r.status // 100, 5, "%r: %r" % (body, r))
            if r.status == 200:
                self.assertEqual(r.json.get("code"), -1, "%r: %r" % (body, r))
        r = self.srv.get("/api/consignmentOrders")
        self.assertTrue(400 <= r.status < 500, "GET on a POST route: %r" % r)
        self.assertEqual(self.srv.get("/no/such/route").status, 404)


if __name__ == "__main__":
    unittest.main()
