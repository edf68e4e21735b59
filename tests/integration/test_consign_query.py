"""consign query (POST /api/searchOrders): look-ups, isolation between merchants, the exact response shape."""

import re
import time
import unittest
from decimal import Decimal

import harness
from harness import (ConsignClient, PaygateTestCase, Server, assert_query_data_types, assert_submit_ok, now,
                     raw_amount_in, unique, wait_until)


class QueryTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(retry_step_ms=300, name="query")
        harness.start_or_dump(cls.srv)
        cls.m = cls.srv.new_merchant()
        cls.c = ConsignClient(cls.srv, cls.m)
        cls.m2 = cls.srv.new_merchant()
        cls.c2 = ConsignClient(cls.srv, cls.m2)
        # one finished order used by several tests
        r = cls.c.submit(face=100, custom="my-custom")
        j = r.json
        if j.get("code") != 1:
            raise AssertionError("fixture submit failed: %s" % r.text)
        cls.order_id = r.fields["orderId"]
        cls.sys_id = j["sysOrderId"]
        cls.c.wait_status(cls.order_id, "2")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def assert_not_found(self, r, what):
        self.assertEqual(r.status, 200, what)
        j = r.json
        self.assertEqual(j.get("code"), "2", "%s: expected code \"2\" (no such order): %s" % (what, r.text))
        self.assertIsInstance(j.get("msg"), str)
        self.assertFalse(j.get("data"), "%s: no data for a missing order: %s" % (what, r.text))

    def assert_failure(self, r, what):
        self.assertEqual(r.status, 200, "protocol errors answer HTTP 200 (%s): %r" % (what, r))
        j = r.json
        self.assertIsInstance(j.get("code"), str, "%s: code is a string in the query protocol: %s"
                              % (what, r.text))
        self.assertNotEqual(j.get("code"), "1", "%s: must not succeed: %s" % (what, r.text))
        self.assertIsInstance(j.get("msg"), str)
        self.assertTrue(j["msg"].strip(), "%s: msg says why: %s" % (what, r.text))
        self.assertFalse(j.get("data"), "%s: no data on failure: %s" % (what, r.text))
        self.assertNotIn(self.sys_id, r.text, "%s: must not leak the order" % what)

    # --------------------------------------------------------------------------------------------------

    def test_an_ip_allowlist_refuses_submit_and_query_from_outside_it(self):
        m = self.srv.new_merchant()
        c = ConsignClient(self.srv, m)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "10.0.0.0/8")
        r = c.submit(face=100)
        self.assertEqual(r.json, {"code": -1, "msg": "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist", "data": None}, r.text)
        r = c.query("whatever")
        self.assertEqual(r.json, {"code": "-1", "msg": "IP not allowed: 127.0.0.1 is not in this merchant's API IP allowlist", "data": []}, r.text)
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "10.0.0.0/8, 127.0.0.1")
        r = c.submit(face=100)
        self.assertEqual(r.json["code"], 1, r.text)
        self.assertEqual(c.query(r.fields["orderId"]).json["code"], "1")
        self.srv.cli("merchant", "set-ips", m["id"], "--allow", "")
        self.assertEqual(c.submit(face=100).json["code"], 1)

    def test_query_by_merchant_order_id(self):
        r = self.c.query(self.order_id)
        self.assertEqual(r.status, 200)
        j = r.json
        self.assertEqual(j["code"], "1", r.text)
        self.assertIsInstance(j["msg"], str)
        self.assertIsInstance(j["data"], list)
        self.assertEqual(len(j["data"]), 1)
        d = j["data"][0]
        self.assertEqual(d["sysOrderId"], self.sys_id)
        self.assertEqual(d["orderId"], self.order_id)

    def test_query_by_sys_order_id(self):
        d = self.c.query_one(self.sys_id)
        self.assertEqual(d["sysOrderId"], self.sys_id)
        self.assertEqual(d["orderId"], self.order_id)

    def test_merchant_order_id_is_tried_first(self):
        # Order B's merchant orderId equals order A's sysOrderId: querying that string finds B.
        ra = self.c.submit(face=100)
        sid_a = assert_submit_ok(self, ra)
        if len(sid_a) > 50:
            self.skipTest("sysOrderId longer than an orderId may be")
        self.assertEqual(self.c.query_one(sid_a)["orderId"], ra.fields["orderId"])
        rb = self.c.submit(order_id=sid_a, face=50)
        sid_b = assert_submit_ok(self, rb)
        d = self.c.query_one(sid_a)
        self.assertEqual(d["sysOrderId"], sid_b, "the merchant orderId must win over the sysOrderId")
        self.assertEqual(d["orderId"], sid_a)
        self.assertEqual(d["faceMoney"], 50)
        self.assertEqual(self.c.query_one(ra.fields["orderId"])["sysOrderId"], sid_a)

    def test_response_shape_exact(self):
        r = self.c.query(self.order_id)
        j = r.json
        self.assertEqual(set(j.keys()) - {"sign"}, {"code", "msg", "data"}, r.text)
        self.assertIsInstance(j["code"], str)
        d = j["data"][0]
        assert_query_data_types(self, d, r.text)
        self.assertEqual(d["customerId"], str(self.m["id"]))
        self.assertEqual(d["status"], "2")
        self.assertEqual(d["faceMoney"], 100)
        self.assertEqual(d["realMoney"], 100)
        self.assertEqual(d["amount"], Decimal("96.50"))
        self.assertTrue(raw_amount_in(r.text, "96.50"), "raw body must carry \"amount\":96.50: %s" % r.text)
        self.assertGreater(d["successTime"], 0)
        self.assertEqual(d["custom"], "my-custom")
        self.assertRegex(r.text, r'"status"\s*:\s*"2"')
        self.assertRegex(r.text, r'"realMoney"\s*:\s*100(?![0-9.])')
        self.assertRegex(r.text, r'"faceMoney"\s*:\s*100(?![0-9.])')

    def test_processing_order_shape(self):
        r = self.c.submit(face=100, password=unique("HOLD-"))
        sid = assert_submit_ok(self, r)
        wait_until(lambda: self.srv.order_show(sid)["status"] == "review", 15, 0.1, "review")
        q = self.c.query(r.fields["orderId"])
        d = q.json["data"][0]
        assert_query_data_types(self, d, q.text)
        self.assertEqual(d["status"], "1")
        self.assertEqual(d["successTime"], 0, "successTime is 0 before the final state")
        self.assertEqual(d["custom"], "", "custom absent: an empty string")
        self.assertTrue(raw_amount_in(q.text, "0.00"), q.text)

    def test_failed_order_shape(self):
        r = self.c.submit(face=50, password=unique("FAIL-"))
        assert_submit_ok(self, r)
        d = self.c.wait_status(r.fields["orderId"], "3")
        q = self.c.query(r.fields["orderId"])
        assert_query_data_types(self, q.json["data"][0], q.text)
        self.assertEqual(d["faceMoney"], 50)
        self.assertEqual(d["amount"], Decimal("0.00"))
        self.assertGreater(d["successTime"], 0)

    def test_unknown_order(self):
        self.assert_not_found(self.c.query(unique("NOPE")), "unknown orderId")
        self.assert_not_found(self.c.query(self.sys_id + "0"), "unknown sysOrderId")

    def test_bad_sign(self):
        self.assert_failure(self.c.query(self.order_id, secret="wrong-key"), "query signed with another key")
        f = self.c.query_fields(self.order_id)
        f["sign"] = "0" * 32
        self.assert_failure(self.srv.post_form("/api/searchOrders", f), "zero sign")
        self.assert_failure(self.c.query(self.order_id, omit=("sign",)), "no sign")

    def test_lowercase_sign_accepted(self):
        f = self.c.query_fields(self.order_id)
        f["sign"] = f["sign"].lower()
        r = self.srv.post_form("/api/searchOrders", f)
        self.assertEqual(r.json.get("code"), "1", r.text)

    def test_missing_fields(self):
        for field in ("customerId", "timestamp", "orderId"):
            self.assert_failure(self.c.query(self.order_id, omit=(field,)), "missing %s" % field)

    def test_stale_timestamp(self):
        self.assert_failure(self.c.query(self.order_id, timestamp=now() - 301), "timestamp now-301")
        self.assert_failure(self.c.query(self.order_id, timestamp=now() + 301), "timestamp now+301")
        self.assertEqual(self.c.query(self.order_id, timestamp=now() - 299).json.get("code"), "1")

    def test_unknown_customer(self):
        r = self.c.query(self.order_id, customer_id="99999999")
        self.assert_failure(r, "unknown customerId")

    def test_other_merchant_cannot_query_my_order(self):
        for oid in (self.order_id, self.sys_id):
            r = self.c2.query(oid)
            self.assertEqual(r.status, 200)
            j = r.json
            self.assertNotEqual(j.get("code"), "1", "another merchant must not find my order: %s" % r.text)
            if oid != self.sys_id:
                self.assertNotIn(self.sys_id, r.text, "must not leak my order")
            self.assertFalse(j.get("data"), r.text)
            self.assertNotIn("my-custom", r.text)
        # my customerId signed with the other merchant's key
        r = self.c.query(self.order_id, secret=self.m2["key"])
        self.assert_failure(r, "my customerId, other merchant's key")

    def test_json_query(self):
        r = self.c.query(self.order_id, as_json=True)
        self.assertEqual(r.json.get("code"), "1", r.text)
        self.assertEqual(r.json["data"][0]["sysOrderId"], self.sys_id)

    def test_query_over_keep_alive(self):
        conn = self.srv.connection()
        try:
            for _ in range(20):
                r = self.c.query(self.order_id, conn=conn)
                self.assertEqual(r.json.get("code"), "1")
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
