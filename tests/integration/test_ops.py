"""Operations: health, metrics, request ids, the listening banner, graceful SIGTERM."""

import os
import re
import socket
import subprocess
import time
import unittest
import urllib.parse

import harness
from harness import ConsignClient, PaygateTestCase, Server, assert_submit_ok, unique, wait_until


def sample_value(line):
    """The value of a Prometheus sample line `name{labels} value [timestamp]`."""
    rest = line.rsplit("}", 1)[1] if "}" in line else line.split(None, 1)[1]
    return float(rest.split()[0])


ROUTE_LABELS = {"submit": ("consignmentOrders", ("consign", "submit")),
                "query": ("searchOrders", ("consign", "query"))}


def route_label_matches(line, route):
    """Whether a sample's labels name the consign submit/query route (by path or by a route name)."""
    labels = line.split("{", 1)[1].rsplit("}", 1)[0] if "{" in line else ""
    path, words = ROUTE_LABELS[route]
    return path in labels or all(w in labels for w in words)


class OpsTests(PaygateTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(name="ops")
        harness.start_or_dump(cls.srv)
        cls.m = cls.srv.new_merchant()
        cls.c = ConsignClient(cls.srv, cls.m)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_banner(self):
        text = wait_until(lambda: "paygate listening on" in self.srv.stdout_text() and self.srv.stdout_text(),
                          5, 0.05, "the listening banner on stdout")
        self.assertIn("paygate listening on http://127.0.0.1:%d" % self.srv.port, text)

    def test_healthz(self):
        r = self.srv.get("/healthz")
        self.assertEqual(r.status, 200)

    def test_head_for_monitoring_and_allow_on_405(self):
        """HEAD works where monitoring and `curl -I` use it; a protocol's GET, which may create an order, does not
        run for HEAD; a 405 names the methods the path takes."""
        for path in ("/healthz", "/metrics", "/console/", "/"):
            get = harness.http_request(self.srv.port, "GET", path)
            head = harness.http_request(self.srv.port, "HEAD", path)
            self.assertEqual(head.status, get.status, path)
            self.assertEqual(head.body, b"", path)
            self.assertEqual(head.header("Content-Type"), get.header("Content-Type"), path)
            if path != "/metrics":  # its body changes between two requests
                self.assertEqual(head.header("Content-Length"), str(len(get.body)), path)
        head_of_query = harness.http_request(self.srv.port, "HEAD", "/api/Payments/Query")
        self.assertEqual((head_of_query.status, head_of_query.header("Allow")), (405, "GET"))
        self.assertEqual(head_of_query.body, b"")
        post = harness.http_request(self.srv.port, "POST", "/healthz")
        self.assertEqual((post.status, post.header("Allow")), (405, "GET, HEAD"))
        delete = harness.http_request(self.srv.port, "DELETE", "/api/consignmentOrders")
        self.assertEqual((delete.status, delete.header("Allow")), (405, "POST"))

    def test_cli_refuses_a_missing_database_and_wrong_operator_input(self):
        # A mistyped --data is an error, not a fresh empty database whose empty ledger "checks OK".
        missing = os.path.join(self.srv.tmp, "no-such-install")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAYGATE_MASTER_KEY": "ab" * 32}
        for args in (["ledger", "check"], ["order", "list"], ["merchant", "list", "--json"], ["settle"]):
            p = subprocess.run([harness.paygate_bin()] + args + ["--data", missing], capture_output=True, env=env,
                               timeout=60)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(b"no database at", p.stderr, args)
            self.assertEqual(p.stdout, b"", args)
            self.assertFalse(os.path.exists(missing), "%s created %s" % (args, missing))

        def refused(*args):
            p = self.srv.cli_raw(*args)
            self.assertNotEqual(p.returncode, 0, args)
            return p.stderr.decode()

        self.assertIn("--real-money goes with --success", refused("order", "resolve", "C1", "--fail", "--real-money", "5"))
        self.assertIn("longer than 255", refused("order", "resolve", "C1", "--fail", "--message", "m" * 256))
        self.assertIn("control characters", refused("order", "resolve", "C1", "--fail", "--message", "a\nb"))
        self.assertIn("control characters", refused("payout", "reject", "P1", "--reason", "a\x1b[31m"))
        self.assertIn("--name", refused("product", "add", "--code", "ESC", "--name", "evil\nFAKE", "--face-values", "100",
                                        "--rate", "95"))
        self.assertIn("--name", refused("product", "add", "--code", "LONG", "--name", "n" * 65, "--face-values", "100",
                                        "--rate", "95"))
        for as_of in ("-5", "99999999999999999999", "1700000000"):  # negative, overflowing, seconds for ms
            refused("settle", "--as-of", as_of)
        self.assertIn("--csv excludes --json", refused("ledger", "statement", "--merchant", "1", "--csv", "--json"))
        # Every data command's own help names the options that choose the installation.
        for sub in (["ledger", "check"], ["order", "resolve"], ["product", "add"], ["serve"]):
            out = subprocess.run([harness.paygate_bin()] + sub + ["--help"], capture_output=True, timeout=60).stdout
            for option in (b"--config", b"--data", b"--database"):
                self.assertIn(option, out, sub)
        self.assertNotIn("ESC", [p["code"] for p in self.srv.cli("product", "list")])  # nothing was stored

    def test_cli_product_add_is_audited_and_says_when_it_replaces(self):
        code = "AUD" + unique("")[-6:].upper().replace("-", "")
        first = self.srv.cli_raw("product", "add", "--code", code, "--name", "Audited", "--face-values", "100",
                                 "--rate", "96.5")
        self.assertEqual(first.returncode, 0, first)
        second = self.srv.cli_raw("product", "add", "--code", code, "--face-values", "100", "--rate", "80")
        self.assertEqual(second.returncode, 0, second)
        self.assertIn(b"replaced", second.stdout)  # the earlier definition, name and custom rates included
        rows = self.srv.cli("audit", "list", "--target-id", code)
        self.assertEqual(sorted(r["action"] for r in rows), ["product.add", "product.update"], rows)
        update = [r for r in rows if r["action"] == "product.update"][0]
        self.assertEqual((update["target_type"], update["before"]["name"], update["after"]["name"]),
                         ("product", "Audited", code), update)
        self.assertTrue(update["actor_name"].startswith("cli:"), update)

    def test_request_id_header(self):
        ids = []
        for r in (self.srv.get("/healthz"), self.srv.get("/healthz"), self.c.submit(),
                  self.c.query(unique("X")), self.srv.get("/no/such/path")):
            rid = r.header("X-Request-Id")
            self.assertTrue(rid, "X-Request-Id on %r" % r)
            ids.append(rid)
        self.assertEqual(len(set(ids)), len(ids), "request ids are distinct: %r" % ids)

    def test_metrics(self):
        assert_submit_ok(self, self.c.submit())
        self.c.query(unique("X"))
        self.c.submit(customer_id="99999999")
        r = self.srv.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertIn("text/plain", r.header("Content-Type") or "")
        lines = [l for l in r.text.splitlines() if l and not l.startswith("#")]
        for l in lines:
            self.assertRegex(l, r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?\s+\S+(\s+\d+)?$", "Prometheus sample line")
        pg = [l for l in lines if l.startswith("paygate_")]
        self.assertTrue(pg, "metrics named paygate_*")

        for route in ("submit", "query"):
            hits = [l for l in pg if "request" in l.split("{")[0] and route_label_matches(l, route)]
            self.assertTrue(hits, "a paygate_*request* metric labelled with the %s route:\n%s"
                            % (route, "\n".join(pg[:60])))
            self.assertTrue(any(sample_value(l) > 0 for l in hits), "a sample > 0 for %s: %r" % (route, hits))
        batch = [l for l in pg if "commit" in l.split("{")[0] and "batch" in l.split("{")[0]]
        self.assertTrue(batch, "a commit batch-size metric (paygate_*commit*batch*):\n%s" % "\n".join(pg[:80]))
        # What docs/deploy.md tells operators to alert on.
        names = {l.split("{")[0].split(" ")[0] for l in pg}
        for name in ("paygate_storage_write_queue_depth", "paygate_storage_writes_rejected", "paygate_outbox_pending"):
            self.assertIn(name, names, "metric %s (docs/deploy.md)" % name)

    def test_metrics_count_requests(self):
        def total(route):
            r = self.srv.get("/metrics")
            s = 0.0
            for l in r.text.splitlines():
                name = l.split("{")[0].split(" ")[0]
                if l.startswith("paygate_") and "request" in name and route_label_matches(l, route) and (
                        name.endswith("_total") or name.endswith("_count")):
                    s += sample_value(l)
            return s
        before = total("query")
        for _ in range(5):
            self.c.query(unique("X"))
        after = total("query")
        self.assertGreaterEqual(after - before, 5, "request counter for searchOrders grows by 5")

    def test_product_list(self):
        codes = {p.get("code") for p in self.srv.cli("product", "list")}
        self.assertTrue({harness.PRODUCT_MAIN, harness.PRODUCT_NOCUSTOM, harness.PRODUCT_OTHER} <= codes, codes)

    def test_unknown_route_404(self):
        r = self.srv.get("/api/nothing")
        self.assertEqual(r.status, 404)


class StartupTests(PaygateTestCase):

    def test_env_override(self):
        # The config says processing_delay_ms = 0; PAYGATE_SANDBOX_PROCESSING_DELAY_MS overrides it.
        srv = Server(name="env", extra_env={"PAYGATE_SANDBOX_PROCESSING_DELAY_MS": "1500"})
        try:
            harness.start_or_dump(srv)
            c = ConsignClient(srv, srv.new_merchant())
            r = c.submit(face=100)
            assert_submit_ok(self, r)
            t0 = time.monotonic()
            time.sleep(0.7)
            self.assertEqual(c.query_one(r.fields["orderId"])["status"], "1", "still processing after 0.7 s")
            c.wait_status(r.fields["orderId"], "2", timeout=15)
            self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        finally:
            srv.close()

    def test_catalogue_changes_apply_within_the_default_cache_ttl(self):
        # The default config caches merchants and products for 1 s: a CLI change reaches the running
        # server within that, without a restart.
        srv = Server(name="cache", catalog_cache_ttl_ms=None)
        try:
            harness.start_or_dump(srv)
            m = srv.new_merchant()
            c = ConsignClient(srv, m)
            assert_submit_ok(self, c.submit(face=100))
            srv.cli("merchant", "disable", m["id"], json_out=False)
            t0 = time.monotonic()

            def rejected():
                r = c.submit(face=100)
                return r if r.json.get("code") == -1 else None
            r = wait_until(rejected, 5, 0.1, "the disable to reach the server")
            self.assertIn("disabled", r.json["msg"])
            self.assertLess(time.monotonic() - t0, 2.5, "within the 1 s cache TTL (plus slack)")
        finally:
            srv.close()

    def test_master_key_file_created_and_reused(self):
        srv = Server(name="keyfile", master_key=None)
        if harness.backend() == "postgresql":
            # Nodes that share a database must share one key: none is made up for a node on its own.
            try:
                srv.cli_raw("migrate")
                with self.assertRaises(AssertionError) as ctx:
                    srv.start(timeout=15)
                self.assertIn("PAYGATE_MASTER_KEY", ctx.exception.args[0])
                self.assertEqual([f for f in os.listdir(srv.data) if "key" in f], [], "no key file made up")
            finally:
                srv.close()
            return
        try:
            before = set(os.listdir(srv.data))
            harness.start_or_dump(srv)
            m = srv.new_merchant()
            c = ConsignClient(srv, m)
            assert_submit_ok(self, c.submit(face=100))
            created = set(os.listdir(srv.data)) - before
            self.assertTrue(created, "a key file (and the database) appear in the data dir")
            self.assertEqual(srv.stop(), 0)
            harness.start_or_dump(srv)
            assert_submit_ok(self, c.submit(face=100), "the merchant's keys still open after a restart")
            self.assertEqual(srv.cli("merchant", "show", m["id"]).get("id"), m["id"])
        finally:
            srv.close()


    def test_wrong_master_key_refuses_to_start(self):
        """A node started with another master key (a typo, or a second node given the wrong one) must not serve
        requests it cannot answer: it stops at start-up and says why."""
        srv = Server(name="wrongkey")
        try:
            harness.start_or_dump(srv)
            srv.new_merchant()
            self.assertEqual(srv.stop(), 0)
            srv.master_key = "ff" * 32
            with self.assertRaises(AssertionError) as ctx:
                srv.start(timeout=15)
            self.assertIn("master key", ctx.exception.args[0])
            self.assertNotEqual(srv.proc.returncode, 0)
            srv.master_key = harness.TEST_MASTER_KEY
            harness.start_or_dump(srv)   # the right key still works
        finally:
            srv.close()


class ShutdownTests(PaygateTestCase):

    def test_sigterm_drains_in_flight_request(self):
        srv = Server(name="term")
        try:
            harness.start_or_dump(srv)
            m = srv.new_merchant()
            c = ConsignClient(srv, m)
            fields = c.submit_fields(face=100)
            body = urllib.parse.urlencode({k: v for k, v in fields.items() if not k.startswith("_")}).encode()
            head = (b"POST /api/consignmentOrders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            try:
                s.sendall(head + body[:10])       # the request is in flight: headers in, body incomplete
                time.sleep(0.3)
                srv.proc.send_signal(15)
                time.sleep(0.3)
                s.sendall(body[10:])
                out = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    h, sep, rest = out.partition(b"\r\n\r\n")
                    mm = re.search(rb"(?i)content-length:\s*(\d+)", h)
                    if sep and mm and len(rest) >= int(mm.group(1)):
                        break
            finally:
                s.close()
            self.assertEqual(harness.status_of_raw(out), 200, "the in-flight request is answered: %r" % out[:300])
            rest = out.partition(b"\r\n\r\n")[2].decode()
            self.assertRegex(rest, r'"code"\s*:\s*1\b', rest)
            code = srv.proc.wait(20)
            self.assertEqual(code, 0, "SIGTERM exits 0")
            # The accepted order survived the shutdown.
            srv.start()
            d = c.wait_status(fields["orderId"], "2")
            self.assertEqual(d["faceMoney"], 100)
            self.assertEqual(srv.stop(), 0)
        finally:
            srv.close()

    def test_sigterm_answers_requests_already_sent(self):
        srv = Server(name="term-sent")
        try:
            harness.start_or_dump(srv)
            m = srv.new_merchant()
            c = ConsignClient(srv, m)
            socks = []
            for _ in range(5):
                fields = c.submit_fields(face=100)
                body = urllib.parse.urlencode({k: v for k, v in fields.items() if not k.startswith("_")}).encode()
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(b"POST /api/consignmentOrders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                          % len(body) + body)
                socks.append((s, fields["orderId"]))
            time.sleep(0.05)
            srv.proc.send_signal(15)
            for s, order_id in socks:
                out = b""
                try:
                    while b"\r\n\r\n" not in out or not out.rstrip().endswith(b"}"):
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        out += chunk
                finally:
                    s.close()
                self.assertEqual(harness.status_of_raw(out), 200, "a request sent before SIGTERM is answered: %r"
                                 % out[:300])
            self.assertEqual(srv.proc.wait(20), 0, "SIGTERM exits 0")
        finally:
            srv.close()

    def test_sigterm_idle_exit_0(self):
        srv = Server(name="term-idle")
        try:
            harness.start_or_dump(srv)
            conn = srv.connection()
            conn.request("GET", "/healthz")   # an idle keep-alive connection must not hold the shutdown
            conn.getresponse().read()
            t0 = time.monotonic()
            self.assertEqual(srv.stop(timeout=15), 0)
            self.assertLess(time.monotonic() - t0, 10)
            conn.close()
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
