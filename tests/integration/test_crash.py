"""Crash safety: SIGKILL mid-stream, restart on the same data dir, nothing acknowledged is lost or doubled."""

import threading
import time
import unittest

import harness
from harness import ConsignClient, PaygateTestCase, Receiver, Server, amount_fen, unique, wait_until


class CrashTests(PaygateTestCase):

    ROUNDS = 3
    THREADS = 3

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(retry_step_ms=300, name="crash")
        harness.start_or_dump(cls.srv)
        cls.rx = Receiver(default="success").start()
        cls.m = cls.srv.new_merchant()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        cls.srv.close()

    def stream(self, client, stop, log, lock, tag):
        """Submit orders over one keep-alive connection until stop is set or the server goes away."""
        conn = self.srv.connection(timeout=10)
        i = 0
        try:
            while not stop.is_set():
                i += 1
                fail = i % 5 == 0
                fields = client.submit_fields(face=100, password=unique("FAIL-" if fail else "PW-"),
                                              notify_url=self.rx.url("crash"), batchno="crash-%s" % tag)
                entry = {"orderId": fields["orderId"], "fail": fail, "outcome": "unknown", "sysOrderId": None}
                with lock:
                    log.append(entry)
                try:
                    r = client.send_submit(fields, conn=conn)
                except Exception:
                    break     # the server died under us: outcome unknown
                harness.record_submit_outcome(entry, r)
        finally:
            conn.close()

    def test_sigkill_mid_stream(self):
        log, lock = [], threading.Lock()
        kill_times = []
        for rnd in range(self.ROUNDS):
            client = ConsignClient(self.srv, self.m)
            stop = threading.Event()
            threads = [threading.Thread(target=self.stream, args=(client, stop, log, lock, "%d-%d" % (rnd, k)))
                       for k in range(self.THREADS)]
            start_count = len([e for e in log if e["outcome"] == "accepted"])
            for t in threads:
                t.start()
            wait_until(lambda: len([e for e in log if e["outcome"] == "accepted"]) >= start_count + 150,
                       60, 0.01, "150 accepted orders in round %d" % rnd)
            self.srv.kill()
            kill_times.append(time.monotonic())
            stop.set()
            for t in threads:
                t.join(30)
            self.srv.start()

        accepted = [e for e in log if e["outcome"] == "accepted"]
        rejected = [e for e in log if e["outcome"] == "rejected"]
        unknown = [e for e in log if e["outcome"] == "unknown"]
        self.assertEqual(rejected[:3], [], "no submission of the stream is rejected")
        print("\ncrash: %d accepted, %d unknown outcome, %d kills" % (len(accepted), len(unknown), len(kill_times)))

        # Every order reaches its final state after the restart.
        def all_final():
            orders = self.srv.order_list(self.m["id"], limit=1000)
            return orders if all(o["status"] in ("success", "failed") for o in orders) else None
        orders = wait_until(all_final, 60, 0.3, "every order to reach a final state after the restart")

        self.assertLess(len(orders), 1000, "the listing must not be truncated")
        by_order_id = {}
        for o in orders:
            by_order_id.setdefault(o["orderId"], []).append(o)
        sent = {e["orderId"]: e for e in log}
        strangers = [oid for oid in by_order_id if oid not in sent]
        self.assertEqual(strangers, [], "orders nobody submitted")
        for e in accepted:
            got = by_order_id.get(e["orderId"], [])
            self.assertEqual(len(got), 1, "accepted order %s must exist exactly once: %r" % (e["orderId"], got))
            self.assertEqual(got[0]["sysOrderId"], e["sysOrderId"])
            self.assertEqual(got[0]["status"], "failed" if e["fail"] else "success", got[0])
        for e in unknown:
            self.assertLessEqual(len(by_order_id.get(e["orderId"], [])), 1, e["orderId"])
        # The protocol agrees with the CLI.
        client = ConsignClient(self.srv, self.m)
        for e in accepted[::7]:
            d = client.query_one(e["orderId"])
            self.assertEqual(d["sysOrderId"], e["sysOrderId"])
            self.assertEqual(d["status"], "3" if e["fail"] else "2")

        # Ledger: balanced, and the balance is exactly the successful orders' amounts.
        p = self.srv.cli("ledger", "check", json_out=False, check=False)
        self.assertEqual(p.returncode, 0, "ledger check: %s %s" % (p.stdout, p.stderr))
        lc = self.srv.cli("ledger", "check")
        self.assertIs(lc.get("ok"), True, lc)
        n_success = sum(1 for o in orders if o["status"] == "success")
        self.assertEqual(self.srv.balance_fen(self.m["id"]), n_success * amount_fen(100, "96.5"))

        # Every order is notified; a second notify of an order only if the first may not have been recorded
        # as acknowledged (it arrived before a kill).
        def all_notified():
            have = {r["form"].get("orderId") for r in self.rx.for_key("crash")}
            missing = [oid for oid in by_order_id if oid not in have]
            return not missing or None
        try:
            wait_until(all_notified, 60, 0.1, "a notify for every order")
        except AssertionError:
            have = {r["form"].get("orderId") for r in self.rx.for_key("crash")}
            missing = [oid for oid in by_order_id if oid not in have]
            self.fail("%d order(s) never notified, e.g. %r" % (len(missing), missing[:5]))
        time.sleep(1.5)
        recs = self.rx.for_key("crash")
        per_order = {}
        for r in recs:
            per_order.setdefault(r["form"].get("orderId"), []).append(r)
        bad = []
        for oid, rs in per_order.items():
            self.assertIn(oid, by_order_id, "notify for an order that does not exist: %s" % oid)
            o = by_order_id[oid][0]
            self.assertEqual(rs[-1]["form"]["status"], "2" if o["status"] == "success" else "3")
            self.assertEqual(rs[-1]["form"]["sign"], harness.sign_notify(rs[-1]["form"], self.m["key"]))
            for prev, nxt in zip(rs, rs[1:]):
                # A repeat is tolerated only when the earlier request may not have been acknowledged: the
                # receiver could not write its "success" (the sender was gone: a request written just before
                # the kill is read by the receiver after it), or a kill fell between the two.
                if prev["answered"] and not any(prev["t"] <= k <= nxt["t"] for k in kill_times):
                    bad.append((oid, round(prev["t"], 3), round(nxt["t"], 3), prev["answered"]))
        self.assertEqual(bad, [], "acknowledged notifies sent again without a crash in between")


if __name__ == "__main__":
    unittest.main()
