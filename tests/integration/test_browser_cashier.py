"""Browser: headless Chromium pays a cashier `Arbi` order on the hosted cashier, choosing the method, and lands on
fronturl with a signed `resp` that an independent decoder verifies; the back notify arrives too. Screenshots go to
build/artifacts/browser/<backend>/cashier_arbi/."""

import os
import unittest
import urllib.parse

import harness
from harness import CashierClient, PaygateTestCase, Receiver, Server, back_notify_of, cashier_open, unique

ARTIFACTS = harness.browser_artifacts()


class BrowserCashierTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_browser()
        cls.srv = Server(name="cashier-browser")
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver(default="0000").start()
        cls.m = cls.srv.new_merchant(name="云杉书店 Spruce Books")
        for channel, fee in ((1, "1.0"), (2, "0.6"), (3, "0.3")):
            cls.srv.enable_channel(cls.m["id"], channel, fee_rate=fee)
        cls.c = CashierClient(cls.srv, cls.m)
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def test_arbi_order_paid_with_the_chosen_method_lands_on_fronturl_signed(self):
        back, front = unique("cback"), unique("cfront")
        req, qid = self.c.pay_ok(self, txnamt=6600, action="Arbi", backurl=self.rx.url(back),
                                 fronturl=self.rx.url(front) + "?shop=1")
        shots = os.path.join(ARTIFACTS, "cashier_arbi")
        os.makedirs(shots, exist_ok=True)
        url = "http://127.0.0.1:%d/cashier?id=%s" % (self.srv.port, qid)
        result = harness.run_checkout_page(self, "--url", url, "--return-url-prefix", self.rx.url(front),
                                           "--expect-amount", "66.00", "--method", "AliPay", "--lang", "en",
                                           "--screenshots", shots, "--name", "cashier")
        landing = self.rx.wait_count(front, 1)[0]
        self.assertEqual(landing["method"], "GET")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(landing["path"]).query)
        self.assertEqual(q["shop"], ["1"], "fronturl's own query is kept")
        resp = cashier_open(q["resp"][0], q["sign"][0], self.m["key"])
        self.assertEqual((resp["resultcode"], resp["queryid"], resp["txnamt"], resp["merid"], resp["orderid"]),
                         ("0000", qid, 6600, str(self.m["id"]), req["orderid"]))
        self.assertTrue(result["landed"].startswith(self.rx.url(front)))
        n = back_notify_of(self.rx.wait_count(back, 1)[0], self.m["key"])
        self.assertEqual(n["resultcode"], "0000")
        shown = self.srv.cli("cashier", "show", qid)
        self.assertEqual((shown["method"], shown["feeFen"]), ("AliPay", 40), "0.6% of 66.00, half-up")


if __name__ == "__main__":
    unittest.main()
