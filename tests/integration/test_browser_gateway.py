"""Browser: headless Chromium (Debian's, driven by playwright-core) opens a gateway payUrl on a phone-sized screen,
checks the QR code, amount and countdown, pays in the sandbox panel (with another amount), lands on returnUrl, and
the merchant's receiver has the signed callback. Screenshots go to build/artifacts/browser/<backend>/."""

import os
import unittest
import urllib.parse

import harness
from harness import (PAYIN_CALLBACK_SIGN_FIELDS, GatewayClient, PaygateTestCase, Receiver, Server, gateway_sign,
                     unique)

ARTIFACTS = harness.browser_artifacts()


class BrowserPayTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_browser()
        cls.srv = Server(name="gw-browser", gateway_retry_delays_ms=(300, 600))
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver().start()
        cls.m = cls.srv.new_merchant(name="星河商城 Galaxy Mall")
        cls.srv.enable_channel(cls.m["id"], 2, fee_rate="2.5")
        cls.g = GatewayClient(cls.srv, cls.m)
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def run_browser(self, *args):
        return harness.run_checkout_page(self, *args)

    def test_pay_on_the_hosted_page_lands_on_return_url_with_a_signed_callback(self):
        cb_key, return_key = unique("bcb"), unique("bret")
        f, pid, pay_url = self.g.create_ok(self, amount="128.00", channel=2, callback_url=self.rx.url(cb_key),
                                           return_url=self.rx.url(return_key) + "?order=1")
        url = "http://127.0.0.1:%d%s" % (self.srv.port, pay_url)
        shots = os.path.join(ARTIFACTS, "gateway_pay")
        os.makedirs(shots, exist_ok=True)
        result = self.run_browser("--url", url, "--return-url-prefix", self.rx.url(return_key),
                                  "--expect-amount", "128.00", "--pay-amount", "127.50", "--screenshots", shots)
        self.assertTrue(result["landed"].startswith(self.rx.url(return_key)), result)
        for path in result.get("screenshots", []):
            self.assertTrue(os.path.getsize(path) > 1000, path)
        landing = self.rx.wait_count(return_key, 1)[0]
        self.assertEqual(landing["method"], "GET")
        self.assertEqual(urllib.parse.urlsplit(landing["path"]).query, "order=1", "returnUrl is used unchanged")
        cb = self.rx.wait_count(cb_key, 1)[0]["form"]
        self.assertEqual((cb["amount"], cb["originAmount"], cb["channel"], cb["mrn"]), ("127.50", "128.00", "2", f["mrn"]))
        self.assertEqual(cb["sign"], gateway_sign(cb, PAYIN_CALLBACK_SIGN_FIELDS, self.m["key"]))
        p = self.srv.cli("payin", "show", pid)
        self.assertEqual((p["status"], p["paidFen"], p["feeFen"]), ("paid", 12750, 319))

    def test_fail_on_the_hosted_page(self):
        cb_key = unique("bfail")
        f, pid, pay_url = self.g.create_ok(self, amount="9.99", channel=2, callback_url=self.rx.url(cb_key))
        url = "http://127.0.0.1:%d%s&lang=en" % (self.srv.port, pay_url)
        shots = os.path.join(ARTIFACTS, "gateway_fail")
        os.makedirs(shots, exist_ok=True)
        self.run_browser("--url", url, "--expect-amount", "9.99", "--fail", "--screenshots", shots)
        self.assertEqual(self.g.query(f["mrn"]).json["result"]["status"], 2)
        self.assertEqual(self.rx.for_key(cb_key), [])


if __name__ == "__main__":
    unittest.main()
