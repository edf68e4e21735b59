"""Shared code for the paygate integration tests.

Standard library only, plus python3-cryptography (Debian package) for AES-128-ECB.
Run the tests with /usr/bin/python3 from this directory; PAYGATE_BIN is the path to the built binary.

What is here:
  * Server: starts `paygate serve` on 127.0.0.1:0 in a temp dir with its own config and data dir, reads the
    port file, captures stdout/stderr to files, stops with SIGTERM (or SIGKILL), restarts on the same data dir.
  * Server.cli(...): runs `paygate <args> --config F --data D`, optionally parsing `--json` output.
  * Server.new_merchant(...): a merchant fixture (create + enable the catalogue products).
  * ConsignClient: builds and signs consign submit/query requests exactly as DECISIONS.md says.
  * Receiver: a notify receiver (http.server in a thread) that records every request and answers a script.
  * wait_until: poll a condition with a deadline.
  * PaygateTestCase: a TestCase that prints the servers' logs when a test fails.

Independent of the server code: the signing strings, the AES encoding and the settlement rounding are
re-implemented here from the protocol document and DECISIONS.md.
"""

import atexit
import base64
import hashlib
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import padding as _padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# A fixed master key for every test server (64 hex chars = 32 bytes).
TEST_MASTER_KEY = "00112233445566778899aabbccddeeff" "0123456789abcdeffedcba9876543210"

# Default rate of the main test product and its custom-rate bounds.
PRODUCT_MAIN = "JDE"          # face values 50,100,200, rate 96.5, custom rate 90..99
PRODUCT_NOCUSTOM = "CTC"      # face values 50,100, rate 95, no custom rate
PRODUCT_OTHER = "ZSH"         # exists, never enabled for the merchants (face 100, rate 97)
PRODUCT_RATES = {PRODUCT_MAIN: "96.5", PRODUCT_NOCUSTOM: "95", PRODUCT_OTHER: "97"}

SUBMIT_SIGN_FIELDS = ("customerId", "timestamp", "orderId", "batchno", "productCode", "cardNumber",
                      "cardPassword", "faceMoney", "notifyUrl")
QUERY_SIGN_FIELDS = ("customerId", "timestamp", "orderId")
NOTIFY_SIGN_FIELDS = ("customerId", "sysOrderId", "orderId", "status", "faceMoney", "realMoney", "amount",
                      "successTime")
QUERY_DATA_FIELDS = {"customerId", "sysOrderId", "orderId", "status", "message", "faceMoney", "realMoney",
                     "amount", "successTime", "custom"}


def paygate_bin():
    path = os.environ.get("PAYGATE_BIN")
    if path:
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise AssertionError("PAYGATE_BIN is not an executable file: %s" % path)
        return path
    path = os.path.join(REPO, "build", "paygate")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise unittest.SkipTest("paygate binary not found (set PAYGATE_BIN): %s" % path)
    return path


# --------------------------------------------------------------------------------------------- crypto / sign

def md5_upper(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest().upper()


def sign_string(fields, order, secret):
    """`k1=v1&k2=v2&...&key=SECRET`; an absent field contributes an empty value."""
    parts = ["%s=%s" % (k, "" if fields.get(k) is None else fields.get(k)) for k in order]
    parts.append("key=%s" % secret)
    return "&".join(parts)


def sign_submit(fields, secret):
    return md5_upper(sign_string(fields, SUBMIT_SIGN_FIELDS, secret))


def sign_query(fields, secret):
    return md5_upper(sign_string(fields, QUERY_SIGN_FIELDS, secret))


def sign_notify(fields, secret):
    return md5_upper(sign_string(fields, NOTIFY_SIGN_FIELDS, secret))


def aes_encrypt_hex(plaintext, key16):
    """The document's cardPassword: lowercase hex of the ASCII of base64(AES-128-ECB-PKCS5(plaintext))."""
    key = key16.encode("utf-8")
    if len(key) != 16:
        raise ValueError("AES key must be 16 bytes, got %d" % len(key))
    padder = _padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    ct = enc.update(data) + enc.finalize()
    return base64.b64encode(ct).hex()


def aes_decrypt_hex(hex_text, key16):
    """Inverse of aes_encrypt_hex; raises ValueError on bad padding."""
    ct = base64.b64decode(bytes.fromhex(hex_text).decode("ascii"), validate=True)
    dec = Cipher(algorithms.AES(key16.encode("utf-8")), modes.ECB()).decryptor()
    data = dec.update(ct) + dec.finalize()
    unpadder = _padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")


def undecryptable_password_hex(right_key, wrong_key="WrongWrongKey123"):
    """An encrypted password made with wrong_key that does NOT decrypt (bad PKCS#5 padding) under right_key."""
    for i in range(10000):
        hex_text = aes_encrypt_hex("PW-wrongkey-%d" % i, wrong_key)
        try:
            aes_decrypt_hex(hex_text, right_key)
        except (ValueError, UnicodeDecodeError):
            return hex_text
    raise AssertionError("could not build an undecryptable password")


def amount_fen(real_money, rate):
    """realMoney (whole yuan) x rate (percent, <= 1 decimal) / 100, half-up to the fen, as integer fen."""
    fen = (Decimal(int(real_money)) * Decimal(str(rate))).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(fen)


def fen_to_yuan(fen):
    return "%d.%02d" % (fen // 100, fen % 100) if fen >= 0 else "-" + fen_to_yuan(-fen)


def _selftest():
    # The document's PHP sample: bin2hex(openssl_encrypt("abc","AES-128-ECB","1234567890abcdef",0))
    assert aes_encrypt_hex("abc", "1234567890abcdef") == \
        "41496f773852746a567977746f66725765786a725a673d3d", aes_encrypt_hex("abc", "1234567890abcdef")
    assert aes_decrypt_hex("41496f773852746a567977746f66725765786a725a673d3d", "1234567890abcdef") == "abc"
    assert md5_upper("abc") == "900150983CD24FB0D6963F7D28E17F72"
    s = sign_string({"customerId": "1", "timestamp": "2", "orderId": "o", "batchno": "b", "productCode": "p",
                     "cardPassword": "cc", "faceMoney": "100"}, SUBMIT_SIGN_FIELDS, "K")
    assert s == ("customerId=1&timestamp=2&orderId=o&batchno=b&productCode=p&cardNumber=&cardPassword=cc"
                 "&faceMoney=100&notifyUrl=&key=K"), s
    assert amount_fen(100, "96.5") == 9650
    assert amount_fen(1, "96.5") == 97          # 96.5 fen -> 97 (half-up, not half-even)
    assert amount_fen(5, "96.5") == 483         # 482.5 -> 483
    assert amount_fen(80, "96.5") == 7720
    assert fen_to_yuan(7) == "0.07" and fen_to_yuan(9650) == "96.50"


_selftest()


# --------------------------------------------------------------------------------------------------- waiting

class WaitTimeout(AssertionError):
    pass


def wait_until(fn, timeout=10.0, interval=0.02, desc="condition"):
    """Call fn until it returns a truthy value; return that value. AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except (AssertionError, ConnectionError, OSError, http.client.HTTPException, ValueError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting for %s; last value %r%s"
                              % (timeout, desc, last, "; last error %r" % last_exc if last_exc else ""))
        time.sleep(interval)


_counter = itertools.count(1)


def unique(prefix="T"):
    return "%s%d%s%s" % (prefix, os.getpid() % 100000, next(_counter), uuid.uuid4().hex[:8])


def now():
    return int(time.time())


# ------------------------------------------------------------------------------------------------------ HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers            # list of (name, value)
        self.body = body                  # bytes
        self.text = body.decode("utf-8", "replace")
        self._json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        """The body parsed as JSON; floats kept as Decimal (so 96.50 stays exact)."""
        if self._json is None:
            try:
                self._json = json.loads(self.text, parse_float=Decimal)
            except ValueError as e:
                raise AssertionError("response is not JSON (HTTP %d): %r (%s)" % (self.status, self.text[:500], e))
        return self._json

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.text[:400])


def http_request(port, method, path, body=None, headers=None, conn=None, timeout=30.0):
    """One request. With `conn` (an http.client.HTTPConnection) the connection is reused (keep-alive)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        if own:
            conn.close()


def post_form(port, path, fields, conn=None, timeout=30.0):
    body = urllib.parse.urlencode(list(fields.items()) if isinstance(fields, dict) else fields)
    return http_request(port, "POST", path, body=body.encode("utf-8"),
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, conn=conn, timeout=timeout)


def multipart_body(fields, boundary="------------------------paygate7f3a9c"):
    """A multipart/form-data body as curl -F and PHP's curl with an array of fields send it; (body, content type)."""
    parts = []
    for k, v in (fields.items() if isinstance(fields, dict) else fields):
        parts.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                     % (boundary.encode(), k.encode("utf-8"), str(v).encode("utf-8")))
    body = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
    return body, "multipart/form-data; boundary=" + boundary


def post_multipart(port, path, fields, conn=None, timeout=30.0):
    body, content_type = multipart_body(fields)
    return http_request(port, "POST", path, body=body, headers={"Content-Type": content_type}, conn=conn,
                        timeout=timeout)


def post_json(port, path, obj, conn=None, timeout=30.0):
    return http_request(port, "POST", path, body=json.dumps(obj).encode("utf-8"),
                        headers={"Content-Type": "application/json"}, conn=conn, timeout=timeout)


def raw_exchange(port, data, read_timeout=5.0, after_headers=None):
    """Send raw bytes, return everything the server writes back until it closes or read_timeout passes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(data)
        if after_headers is not None:
            time.sleep(0.3)
            try:
                s.sendall(after_headers)
            except OSError:
                pass
        out = b""
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                # Stop once a complete response (by Content-Length) is in.
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def raw_stream(port, pieces, gap=0.02, read_timeout=5.0):
    """Send pieces one by one; stop sending as soon as the server answers (so an early 4xx followed by a
    close is not lost to a TCP reset caused by unread data). Returns what the server wrote."""
    import select
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    out = b""
    try:
        for piece in pieces:
            r, _, _ = select.select([s], [], [], gap)
            if r:
                break
            try:
                s.sendall(piece)
            except OSError:
                break
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            head, sep, rest = out.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def status_of_raw(resp_bytes):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp_bytes)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------------- server

_ACTIVE_SERVERS = []
_CLOSED_SERVERS = []
_ACTIVE_RECEIVERS = []


def _child_env(extra=None, master_key=TEST_MASTER_KEY):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYGATE_")}
    if master_key is not None:
        env["PAYGATE_MASTER_KEY"] = master_key
    if extra:
        env.update(extra)
    return env


class CliError(AssertionError):
    pass


# ------------------------------------------------------------------------------------------------- backends
#
# CTest runs every integration suite twice: on SQLite (the default) and with PAYGATE_TEST_BACKEND=postgresql,
# where PAYGATE_TEST_POSTGRES_URL is the admin URL of a throw-away PostgreSQL cluster (the `pg.start` fixture).
# Each Server then gets a database of its own, dropped when the test process exits.

def backend():
    return os.environ.get("PAYGATE_TEST_BACKEND", "sqlite")


def postgres_admin_url():
    """The test cluster's admin URL: PAYGATE_TEST_POSTGRES_URL, or the file PAYGATE_TEST_POSTGRES_URL_FILE names
    (written by the `pg.start` CTest fixture, tests/pg/pg_cluster.py)."""
    url = os.environ.get("PAYGATE_TEST_POSTGRES_URL", "")
    path = os.environ.get("PAYGATE_TEST_POSTGRES_URL_FILE", "")
    if not url and path:
        try:
            with open(path) as f:
                url = f.read().strip()
        except OSError as e:
            raise AssertionError("cannot read the PostgreSQL test cluster's URL from %s: %s" % (path, e))
    if not url:
        raise AssertionError("PAYGATE_TEST_BACKEND=postgresql needs PAYGATE_TEST_POSTGRES_URL or "
                             "PAYGATE_TEST_POSTGRES_URL_FILE (run through ctest, which starts the cluster)")
    return url


def _psql(admin_url, sql):
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c", sql],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("psql %r failed: %s" % (sql, p.stderr.decode("utf-8", "replace")))


def _database_url(admin_url, name):
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def new_postgres_database(prefix="it"):
    """A fresh, empty database on the test cluster; its URL. Dropped at exit."""
    admin = postgres_admin_url()
    name = re.sub(r"[^a-z0-9_]", "_", ("%s_%s" % (prefix, uuid.uuid4().hex[:12])).lower())
    _psql(admin, "CREATE DATABASE %s" % name)
    atexit.register(_drop_database, admin, name)
    return _database_url(admin, name)


def _drop_database(admin, name):
    try:
        _psql(admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    except Exception as e:  # the cluster may already be gone; nothing to keep
        sys.stderr.write("warning: could not drop test database %s: %s\n" % (name, e))


def require_postgres(test_case_cls_name="this suite"):
    """Skip (loudly) unless the tests run on PostgreSQL."""
    if backend() != "postgresql":
        raise unittest.SkipTest("%s needs PostgreSQL (ctest runs it with PAYGATE_TEST_BACKEND=postgresql)"
                                % test_case_cls_name)


class Server:
    """A paygate server in its own temp dir. Logs go to files in the temp dir (appended across restarts).

    `database`: None picks by backend() (SQLite in the data dir, or a fresh PostgreSQL database); pass another
    Server's `.database` to run a second node on the same PostgreSQL database."""

    def __init__(self, retry_step_ms=300, processing_delay_ms=0, extra_config="", extra_env=None, name="srv",
                 master_key=TEST_MASTER_KEY, catalog_cache_ttl_ms=0, database=None, gateway_retry_delays_ms=(300, 600),
                 payment_expiry_ms=None, payout_delay_ms=0, sandbox_enabled=True, cashier_retry_unit_ms=100,
                 cashier_expiry_ms=None):
        self.bin = paygate_bin()
        if database is None and backend() == "postgresql":
            database = new_postgres_database(name)
        self.database = database or ""
        self.tmp = tempfile.mkdtemp(prefix="paygate-it-%s-" % name)
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.config = os.path.join(self.tmp, "paygate.toml")
        self.port_file = os.path.join(self.tmp, "port")
        self.stdout_path = os.path.join(self.tmp, "stdout.log")
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.extra_env = dict(extra_env or {})
        self.master_key = master_key
        self.proc = None
        self.port = None
        self.starts = 0
        notify = ["allow_private_targets = true", "poll_interval_ms = 50"]
        if retry_step_ms is not None:
            notify.append("consign_retry_step_ms = %d" % retry_step_ms)
        if gateway_retry_delays_ms is not None:
            notify.append("gateway_retry_delays_ms = [%s]" % ", ".join(str(d) for d in gateway_retry_delays_ms))
        if cashier_retry_unit_ms is not None:
            notify.append("cashier_retry_unit_ms = %d" % cashier_retry_unit_ms)
        sandbox = ["enabled = %s" % ("true" if sandbox_enabled else "false"),
                   "processing_delay_ms = %d" % processing_delay_ms, "payout_delay_ms = %d" % payout_delay_ms]
        gateway = "" if payment_expiry_ms is None else "\n[gateway]\npayment_expiry_ms = %d\n" % payment_expiry_ms
        if cashier_expiry_ms is not None:
            gateway += "\n[cashier]\norder_expiry_ms = %d\n" % cashier_expiry_ms
        cfg = ("[server]\nlisten = \"127.0.0.1:0\"\n\n"
               "[storage]\ndata_dir = \"%s\"\ndatabase = \"%s\"\ngroup_commit = true\n%s\n"
               "[sandbox]\n%s\n\n"
               "[notify]\n%s\n\n"
               "[consign]\ntimestamp_skew_s = 300\n%s"
               % (self.data, self.database,
                  # Most tests change merchants with the CLI and submit at once: no catalogue cache for them
                  # (test_ops checks the default, cached behaviour).
                  "" if catalog_cache_ttl_ms is None else "catalog_cache_ttl_ms = %d\n" % catalog_cache_ttl_ms,
                  "\n".join(sandbox), "\n".join(notify), gateway))
        if extra_config:
            cfg += "\n" + extra_config + "\n"
        with open(self.config, "w") as f:
            f.write(cfg)
        self.migrated = False
        _ACTIVE_SERVERS.append(self)

    # -- lifecycle

    def start(self, timeout=30.0):
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        if not self.migrated:
            self.cli("migrate", json_out=False)
            self.migrated = True
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        banner = ("\n===== start #%d at %s =====\n" % (self.starts + 1, time.strftime("%H:%M:%S"))).encode()
        out.write(banner)
        err.write(banner)
        out.flush()
        err.flush()
        self.stdout_offset = out.tell()
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--config", self.config, "--data", self.data,
             "--listen", "127.0.0.1:0", "--port-file", self.port_file],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=self.tmp, env=_child_env(self.extra_env, self.master_key))
        out.close()
        err.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("paygate serve exited with %s before listening\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                with open(self.port_file) as f:
                    text = f.read()
                if text.endswith("\n") and text.strip().isdigit():
                    self.port = int(text.strip())
                    break
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("paygate serve did not write the port file within %.0fs\n%s"
                                     % (timeout, self.log_tail()))
            time.sleep(0.02)
        return self

    def stop(self, timeout=20.0):
        """SIGTERM; return the exit code (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        """SIGKILL (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.kill()
        return self.start()

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                code = self.stop()
                if code is None:
                    sys.stderr.write("warning: paygate did not exit on SIGTERM (killed)\n")
        finally:
            if self in _ACTIVE_SERVERS:
                _ACTIVE_SERVERS.remove(self)
                _CLOSED_SERVERS.append(self)   # logs stay readable until the process exits
            if not os.environ.get("PAYGATE_IT_KEEP_TMP"):
                atexit.register(shutil.rmtree, self.tmp, True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, max_bytes=12000):
        parts = []
        for label, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            try:
                with open(path, "rb") as f:
                    f.seek(0, 2)
                    size = f.tell()
                    f.seek(max(0, size - max_bytes))
                    data = f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                data = "<none>"
            parts.append("----- paygate %s (%s, last %d bytes) -----\n%s" % (label, self.tmp, max_bytes, data))
        return "\n".join(parts)

    def stdout_text(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- HTTP

    def get(self, path, headers=None, timeout=30.0):
        return http_request(self.port, "GET", path, headers=headers, timeout=timeout)

    def post_form(self, path, fields, conn=None):
        return post_form(self.port, path, fields, conn=conn)

    def post_json(self, path, obj, conn=None):
        return post_json(self.port, path, obj, conn=conn)

    def connection(self, timeout=30.0):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    # -- CLI

    def cli_raw(self, *args, timeout=60.0):
        cmd = [self.bin] + [str(a) for a in args] + ["--config", self.config, "--data", self.data]
        return subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=self.tmp,
                              env=_child_env(self.extra_env, self.master_key))

    def cli(self, *args, json_out=True, check=True, timeout=60.0):
        args = list(args)
        if json_out and "--json" not in args:
            args.append("--json")
        p = self.cli_raw(*args, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise CliError("paygate %s exited %d\nstdout: %s\nstderr: %s"
                           % (" ".join(map(str, args)), p.returncode, out, err))
        if not json_out:
            return p
        try:
            return json.loads(out)
        except ValueError as e:
            raise CliError("paygate %s printed no JSON document (%s)\nstdout: %r\nstderr: %s"
                           % (" ".join(map(str, args)), e, out[:2000], err[:2000]))

    # -- fixtures

    def add_catalogue(self):
        """The test products (idempotent per server)."""
        if getattr(self, "_catalogue", False):
            return
        self.cli("product", "add", "--code", PRODUCT_MAIN, "--name", "JD E-Card", "--face-values", "50,100,200",
                 "--rate", "96.5", "--custom-rate-min", "90", "--custom-rate-max", "99")
        self.cli("product", "add", "--code", PRODUCT_NOCUSTOM, "--name", "CT Card", "--face-values", "50,100",
                 "--rate", "95")
        self.cli("product", "add", "--code", PRODUCT_OTHER, "--name", "Sinopec", "--face-values", "100",
                 "--rate", "97")
        self._catalogue = True

    def new_merchant(self, name=None, products=(PRODUCT_MAIN, PRODUCT_NOCUSTOM)):
        self.add_catalogue()
        name = name or unique("m")
        m = self.cli("merchant", "create", "--name", name)
        if set(m) != {"id", "appKey", "key", "aesKey"}:
            raise AssertionError("merchant create --json has exactly id, appKey, key, aesKey: %r" % (m,))
        m["name"] = name  # for the tests' convenience; the CLI prints the credentials only
        if len(m["aesKey"]) != 16:
            raise AssertionError("aesKey is not 16 characters: %r" % m)
        for code in products:
            self.cli("product", "enable", "--merchant", m["id"], "--code", code, json_out=False)
        return m

    def balance_fen(self, merchant_id):
        b = self.cli("merchant", "balance", merchant_id)
        return b["availableFen"]

    def balances(self, merchant_id):
        """(available, payouts in flight) in fen."""
        b = self.cli("merchant", "balance", merchant_id)
        return b["availableFen"], b["payoutReservedFen"]

    def enable_channel(self, merchant_id, channel, fee_rate="0", min_amount=None, max_amount=None):
        args = ["channel", "enable", "--merchant", merchant_id, "--channel", channel, "--fee-rate", fee_rate]
        if min_amount is not None:
            args += ["--min", min_amount]
        if max_amount is not None:
            args += ["--max", max_amount]
        return self.cli(*args)

    def ledger_ok(self):
        r = self.cli("ledger", "check", check=False)
        return r

    def order_show(self, sys_order_id):
        return self.cli("order", "show", sys_order_id)

    def order_list(self, merchant_id=None, status=None, limit=None):
        """`order list`; `limit` passes --limit (the implementation lists 100 orders unless told more)."""
        args = ["order", "list"]
        if limit is not None:
            args += ["--limit", limit]
        if merchant_id is not None:
            args += ["--merchant", merchant_id]
        if status is not None:
            args += ["--status", status]
        return self.cli(*args)


# ----------------------------------------------------------------------------------------------- consign client

class ConsignClient:
    """Builds, signs and sends consign requests for one merchant."""

    def __init__(self, server, merchant):
        self.server = server
        self.m = merchant
        self.customer_id = str(merchant["id"])
        self.secret = merchant["key"]
        self.aes_key = merchant["aesKey"]

    def encrypt(self, plain, key=None):
        return aes_encrypt_hex(plain, key or self.aes_key)

    def submit_fields(self, order_id=None, face=100, password=None, product=PRODUCT_MAIN, product_type="0",
                      batchno="B1", card_number="", notify_url=None, custom=None, customize_rate=None,
                      timestamp=None, se_code=None, encrypted_password=None, customer_id=None, omit=(),
                      sign=None, secret=None, extra=None):
        """The submit form, signed. `card_number=""` means a fresh unique card number; None omits it."""
        if card_number == "":
            card_number = unique("CN")
        if password is None:
            password = unique("PW-")
        f = {
            "customerId": customer_id if customer_id is not None else self.customer_id,
            "timestamp": str(timestamp if timestamp is not None else now()),
            "orderId": order_id if order_id is not None else unique("O"),
            "productType": str(product_type),
            "batchno": batchno,
            "productCode": product,
            "cardNumber": card_number,
            "cardPassword": encrypted_password if encrypted_password is not None else self.encrypt(password),
            "faceMoney": str(face),
            "notifyUrl": notify_url,
            "customizeRate": customize_rate,
            "seCode": se_code,
            "custom": custom,
        }
        if extra:
            f.update(extra)
        f = {k: v for k, v in f.items() if v is not None and k not in omit}
        if "sign" not in omit:
            f["sign"] = sign if sign is not None else sign_submit(f, secret or self.secret)
        f["_plain"] = password   # stripped before sending
        return f

    @staticmethod
    def _wire(fields):
        return {k: v for k, v in fields.items() if not k.startswith("_")}

    def resign(self, fields, timestamp=None):
        f = dict(fields)
        if timestamp is not None:
            f["timestamp"] = str(timestamp)
        f["sign"] = sign_submit(self._wire({k: v for k, v in f.items() if k != "sign"}), self.secret)
        return f

    def send_submit(self, fields, conn=None, as_json=False):
        wire = self._wire(fields)
        if as_json:
            return post_json(self.server.port, "/api/consignmentOrders", wire, conn=conn)
        return post_form(self.server.port, "/api/consignmentOrders", wire, conn=conn)

    def submit(self, conn=None, as_json=False, **kw):
        fields = self.submit_fields(**kw)
        r = self.send_submit(fields, conn=conn, as_json=as_json)
        r.fields = fields
        return r

    def query_fields(self, order_id, timestamp=None, secret=None, customer_id=None, sign=None, omit=()):
        f = {"customerId": customer_id if customer_id is not None else self.customer_id,
             "timestamp": str(timestamp if timestamp is not None else now()),
             "orderId": order_id}
        f = {k: v for k, v in f.items() if k not in omit}
        if "sign" not in omit:
            f["sign"] = sign if sign is not None else sign_query(f, secret or self.secret)
        return f

    def query(self, order_id, conn=None, as_json=False, **kw):
        f = self.query_fields(order_id, **kw)
        if as_json:
            return post_json(self.server.port, "/api/searchOrders", f, conn=conn)
        return post_form(self.server.port, "/api/searchOrders", f, conn=conn)

    def query_one(self, order_id):
        """The single data object of a successful query (asserts code "1" and one element)."""
        r = self.query(order_id)
        if r.status != 200:
            raise AssertionError("query %s: HTTP %d %r" % (order_id, r.status, r.text))
        j = r.json
        if j.get("code") != "1":
            raise AssertionError("query %s: expected code \"1\", got %r" % (order_id, r.text))
        data = j.get("data")
        if not isinstance(data, list) or len(data) != 1:
            raise AssertionError("query %s: expected data to be a one-element array, got %r" % (order_id, r.text))
        return data[0]

    def wait_status(self, order_id, status, timeout=15.0):
        """Wait until the query shows `status` ("1", "2", "3"); return the data object."""
        def check():
            d = self.query_one(order_id)
            return d if d.get("status") == status else None
        return wait_until(check, timeout, 0.03, "order %s to reach status %s" % (order_id, status))


def record_submit_outcome(entry, r):
    """For crash and multi-node streams: mark a log entry accepted (with its sysOrderId) or rejected."""
    j = r.json
    if r.status == 200 and j.get("code") == 1:
        entry["outcome"] = "accepted"
        entry["sysOrderId"] = j["sysOrderId"]
    else:
        entry["outcome"] = "rejected"
        entry["text"] = r.text


def assert_submit_ok(tc, r, msg=""):
    tc.assertEqual(r.status, 200, "HTTP status %s" % msg)
    j = r.json
    tc.assertEqual(j.get("code"), 1, "expected code 1 (int) %s: %s" % (msg, r.text))
    tc.assertIsInstance(j.get("code"), int, "code must be a JSON integer: %s" % r.text)
    sid = j.get("sysOrderId")
    tc.assertIsInstance(sid, str, "sysOrderId must be a string: %s" % r.text)
    tc.assertTrue(sid, "sysOrderId empty: %s" % r.text)
    tc.assertIsInstance(j.get("data"), dict, "data must be an object: %s" % r.text)
    tc.assertEqual(j["data"].get("sysOrderId"), sid, "data.sysOrderId must equal sysOrderId: %s" % r.text)
    tc.assertIsInstance(j.get("msg"), str)
    return sid


def assert_submit_rejected(tc, r, msg="", msg_pattern=None):
    tc.assertEqual(r.status, 200, "protocol errors answer HTTP 200 %s: %r" % (msg, r))
    j = r.json
    tc.assertEqual(j.get("code"), -1, "expected code -1 %s: %s" % (msg, r.text))
    tc.assertIsInstance(j.get("code"), int, "code must be a JSON integer: %s" % r.text)
    tc.assertIsInstance(j.get("msg"), str, "msg must be a string %s: %s" % (msg, r.text))
    tc.assertTrue(j["msg"].strip(), "msg must say what is wrong %s: %s" % (msg, r.text))
    tc.assertIn("data", j, "failure body must carry data: null %s: %s" % (msg, r.text))
    tc.assertIsNone(j["data"], "failure data must be null %s: %s" % (msg, r.text))
    tc.assertNotIn("sysOrderId", j, "a rejected submit must not carry a sysOrderId %s: %s" % (msg, r.text))
    if msg_pattern is not None:
        tc.assertRegex(j["msg"], msg_pattern, "message %s" % msg)
    return j["msg"]


def assert_query_data_types(tc, d, raw=None):
    """The query data object: field names and JSON types exactly as the document's table says."""
    tc.assertEqual(set(d.keys()), QUERY_DATA_FIELDS, "query data field names: %r" % d)
    for k in ("customerId", "sysOrderId", "orderId", "status", "message", "custom"):
        tc.assertIsInstance(d[k], str, "query data %s must be a JSON string: %r" % (k, d))
    tc.assertIn(d["status"], ("1", "2", "3"), "status: %r" % d)
    for k in ("faceMoney", "realMoney", "successTime"):
        tc.assertIsInstance(d[k], int, "query data %s must be a JSON integer: %r" % (k, d))
        tc.assertNotIsInstance(d[k], bool)
    tc.assertIsInstance(d["amount"], Decimal, "query data amount must be a JSON number with decimals: %r" % d)
    tc.assertEqual(d["amount"].as_tuple().exponent, -2, "amount must have exactly two decimals: %r" % d)
    if raw is not None:
        tc.assertRegex(raw, r'"amount"\s*:\s*-?\d+\.\d\d(?![0-9])',
                       "amount must be written as a number with two decimals in the raw body")
        tc.assertNotRegex(raw, r'"amount"\s*:\s*"', "amount must be a JSON number, not a string")


def raw_amount_in(raw, yuan):
    return re.search(r'"amount"\s*:\s*%s(?![0-9])' % re.escape(yuan), raw) is not None


# --------------------------------------------------------------------------------------------- notify receiver

class Receiver:
    """Records every request (monotonic arrival time, wall time, method, path, headers, body, form fields).

    Scripts are per key (the URL path is /n/<key>): a list of actions consumed in order, then `default`.
    An action is a body string answered with 200 ("success", "fail", "nope", " SUCCESS \\n"), or a tuple:
      ("status", code, body)   answer with that HTTP status
      ("hang", seconds, body)  wait, then answer 200 body (the write may fail if the client went away)
      ("close",)               close the connection without answering
    """

    def __init__(self, default="success"):
        self.default = default
        self.scripts = {}
        self.defaults = {}
        self.requests = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.httpd = None
        self.thread = None
        self.port = 0
        _ACTIVE_RECEIVERS.append(self)

    def start(self, port=0):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                t = time.monotonic()
                wall = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                form = {}
                try:
                    for k, v in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                        form[k] = v
                except UnicodeDecodeError:
                    pass
                path = self.path
                key = urllib.parse.urlsplit(path).path
                if key.startswith("/n/"):
                    key = key[3:]
                with receiver.cond:
                    script = receiver.scripts.setdefault(key, [])
                    action = script.pop(0) if script else receiver.defaults.get(key, receiver.default)
                    rec = {"t": t, "wall": wall, "method": self.command, "path": path, "key": key,
                           "headers": dict(self.headers.items()), "content_type": ctype, "body": body,
                           "form": form, "action": action, "answered": False}
                    receiver.requests.append(rec)
                    receiver.cond.notify_all()
                status, resp = 200, action
                if isinstance(action, tuple):
                    if action[0] == "close":
                        self.close_connection = True
                        try:
                            self.connection.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                    if action[0] == "hang":
                        time.sleep(action[1])
                        resp = action[2]
                    elif action[0] == "status":
                        status, resp = action[1], action[2]
                data = resp if isinstance(resp, bytes) else resp.encode("utf-8")  # bytes: sent as they are
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                    with receiver.cond:
                        rec["answered"] = True
                        rec["t_answered"] = time.monotonic()
                except OSError:
                    self.close_connection = True

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            # The default listen backlog (5) drops connections when several dispatchers deliver at once, and a
            # dropped SYN costs a 1 s retransmit: the platform's connect timeout, not its delivery, would be tested.
            request_queue_size = 1024

            def handle_error(self, request, client_address):
                pass   # a client (the server under test) that goes away mid-request is expected here

        self.httpd = Httpd(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def close(self):
        self.stop()
        if self in _ACTIVE_RECEIVERS:
            _ACTIVE_RECEIVERS.remove(self)

    def url(self, key):
        return "http://127.0.0.1:%d/n/%s" % (self.port, key)

    def script(self, key, actions, default=None):
        with self.lock:
            self.scripts[key] = list(actions)
            if default is not None:
                self.defaults[key] = default

    def for_key(self, key):
        with self.lock:
            return [r for r in self.requests if r["key"] == key]

    def for_order(self, order_id):
        with self.lock:
            return [r for r in self.requests if r["form"].get("orderId") == order_id]

    def wait_count(self, key, n, timeout=15.0):
        """Wait until at least n requests arrived for key; return them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r["key"] == key]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout("receiver: expected %d request(s) on %s within %.1fs, got %d: %r"
                                      % (n, key, timeout, len(got), [(r["form"], r["action"]) for r in got]))
                self.cond.wait(min(left, 0.1))

    def summary(self, limit=40):
        with self.lock:
            rows = ["%8.3f %s %s %s -> %r" % (r["t"], r["method"], r["path"], r["form"].get("orderId"),
                                               r["action"]) for r in self.requests[-limit:]]
        return "----- receiver on port %d: %d request(s) -----\n%s" % (self.port, len(self.requests),
                                                                       "\n".join(rows))


# ------------------------------------------------------------------------------------------------ gateway client

PAYIN_SIGN_FIELDS = ("amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl")
PAYIN_CALLBACK_SIGN_FIELDS = ("amount", "appKey", "channel", "mrn", "originAmount")
PAYOUT_SIGN_FIELDS = ("accountName", "accountNumber", "amount", "appKey", "bankName", "callbackUrl", "mrn")
PAYOUT_CALLBACK_SIGN_FIELDS = ("amount", "appKey", "mrn")
GATEWAY_QUERY_SIGN_FIELDS = ("appKey", "mrn")


def md5_lower(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def gateway_sign(fields, order, secret):
    """The gateway's signing string (the document's fixed order, values as sent, absent = empty), MD5 lower."""
    return md5_lower("&".join("%s=%s" % (k, fields.get(k, "")) for k in order) + "&key=" + secret)


def fee_fen(paid_fen, fee_rate_percent):
    """paid x rate%, half-up to the fen: the platform's fee (DECISIONS: rates have one decimal)."""
    fee = (Decimal(paid_fen) * Decimal(fee_rate_percent) / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


class GatewayClient:
    """Builds, signs and sends gateway requests for one merchant (independently of the server's codec)."""

    def __init__(self, server, merchant):
        self.server = server
        self.m = merchant
        self.app_key = merchant["appKey"]
        self.secret = merchant["key"]

    # Callbacks nobody listens for go to the discard port on loopback: refused at once. (A name like
    # merchant.example.com would cost a DNS timeout per attempt on this closed network.)
    NOWHERE = "http://127.0.0.1:9"

    def pay_in_fields(self, mrn=None, amount="10.00", channel=1, callback_url=NOWHERE + "/cb",
                      return_url="https://merchant.example.com/return", payer=None, secret=None, omit=(),
                      extra=None, sign=None):
        f = {"amount": amount, "appKey": self.app_key, "callbackUrl": callback_url, "channelId": str(channel),
             "mrn": mrn or unique("PI"), "returnUrl": return_url}
        if payer is not None:
            f["payer"] = payer
        for k in omit:
            f.pop(k, None)
        if extra:
            f.update(extra)
        f["sign"] = sign if sign is not None else gateway_sign(f, PAYIN_SIGN_FIELDS, secret or self.secret)
        return f

    def create(self, fields, as_form=False):
        """WebAPI mode: POST /api/Pay/Create (JSON unless as_form)."""
        if as_form:
            return post_form(self.server.port, "/api/Pay/Create", fields)
        return post_json(self.server.port, "/api/Pay/Create", fields)

    def page_mode(self, fields):
        """Page mode: the browser's form POST to /api/Pay (the 302 is not followed)."""
        return post_form(self.server.port, "/api/Pay", fields)

    def create_ok(self, tc, **kw):
        """Creates a pay-in through the WebAPI; returns (fields, payment id, payUrl)."""
        f = self.pay_in_fields(**kw)
        r = self.create(f)
        tc.assertEqual(r.status, 200, r)
        tc.assertEqual(r.json.get("success"), True, r)
        pay_url = r.json["payUrl"]
        return f, payment_id_of(pay_url), pay_url

    def complete(self, payment_id, result="success", amount=None):
        body = {"result": result}
        if amount is not None:
            body["amount"] = amount
        return post_form(self.server.port, "/sandbox/payments/%s/complete" % urllib.parse.quote(payment_id, safe=""),
                         body)

    def query_fields(self, mrn, callback=None, secret=None, app_key=None, sign=None):
        f = {"appKey": app_key or self.app_key, "mrn": mrn}
        f["sign"] = sign if sign is not None else gateway_sign(f, GATEWAY_QUERY_SIGN_FIELDS, secret or self.secret)
        if callback is not None:
            f["callback"] = callback
        return f

    def query(self, mrn, kind="Payments", **kw):
        f = self.query_fields(mrn, **kw)
        return http_request(self.server.port, "GET", "/api/%s/Query?%s" % (kind, urllib.parse.urlencode(f)))

    def payout_fields(self, mrn=None, amount="100", account_number="6222020000001234", bank_name="中国工商银行",
                      account_name="张三", callback_url=NOWHERE + "/payout", secret=None, omit=(),
                      extra=None, sign=None):
        f = {"amount": amount, "appKey": self.app_key, "bankName": bank_name, "accountName": account_name,
             "accountNumber": account_number, "mrn": mrn or unique("PO"), "callbackUrl": callback_url}
        for k in omit:
            f.pop(k, None)
        if extra:
            f.update(extra)
        f["sign"] = sign if sign is not None else gateway_sign(f, PAYOUT_SIGN_FIELDS, secret or self.secret)
        return f

    def payout(self, fields, conn=None):
        return post_json(self.server.port, "/api/Payouts/Create", fields, conn=conn)

    def fund(self, tc, fen, channel):
        """Credits the merchant's available balance with exactly `fen` (a pay-in on a 0% channel, paid)."""
        _, pid, _ = self.create_ok(tc, amount="%d.%02d" % (fen // 100, fen % 100), channel=channel)
        r = self.complete(pid)
        tc.assertEqual(r.status, 200, r)
        tc.assertEqual(r.json.get("ok"), True, r)


def payment_id_of(pay_url):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(pay_url).query)
    return q["id"][0]


# ------------------------------------------------------------------------------------------------ cashier client

def cashier_seal(obj, secret):
    """(base64 text, sign) of a JSON object, as a merchant builds a cashier request (the document, 2.2)."""
    text = base64.b64encode(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).decode("ascii")
    return text, md5_lower(text + secret)


def cashier_open(text, sign, secret):
    """Decodes a resp envelope we received and checks its sign; returns the JSON object."""
    if md5_lower(text + secret) != sign:
        raise AssertionError("cashier envelope sign %r does not match md5(resp + key)" % sign)
    return json.loads(base64.b64decode(text, validate=True).decode("utf-8"))


class CashierClient:
    """Builds, seals and sends cashier requests for one merchant (independently of the server's codec)."""

    def __init__(self, server, merchant):
        self.server = server
        self.m = merchant
        self.merid = str(merchant["id"])
        self.secret = merchant["key"]

    def pay_request(self, orderid=None, txnamt=1000, action="WeiXin", backurl="http://127.0.0.1:9/back",
                    fronturl=None, accname=None, accno=None, extra=None, omit=()):
        r = {"action": action, "txnamt": txnamt, "merid": self.merid,
             "orderid": orderid or ("O" + uuid.uuid4().hex[:20]), "backurl": backurl}
        if fronturl is not None:
            r["fronturl"] = fronturl
        if accname is not None:
            r["accname"] = accname
        if accno is not None:
            r["accno"] = accno
        for k in omit:
            r.pop(k, None)
        if extra:
            r.update(extra)
        return r

    def pay(self, request, secret=None, sign=None, accept_json=False, method="POST"):
        """accept_json: True sends `Accept: application/json`; a string sends that Accept header as it is."""
        text, good = cashier_seal(request, secret or self.secret)
        form = {"req": text, "sign": sign if sign is not None else good}
        headers = {}
        if accept_json:
            headers["Accept"] = accept_json if isinstance(accept_json, str) else "application/json"
        if method == "GET":
            return http_request(self.server.port, "GET", "/apis/icashier?" + urllib.parse.urlencode(form),
                                headers=headers)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return http_request(self.server.port, "POST", "/api/icashier", body=urllib.parse.urlencode(form).encode(),
                            headers=headers)

    def pay_ok(self, tc, **kw):
        """A payment request that must be accepted; returns (request, queryid)."""
        req = self.pay_request(**kw)
        r = self.pay(req)
        tc.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        tc.assertTrue(loc.startswith("/cashier?id=Q"), loc)
        return req, urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["id"][0]

    def complete(self, queryid, result="success", method=None):
        body = {"result": result}
        if method:
            body["method"] = method
        return post_form(self.server.port, "/sandbox/payments/%s/complete" % queryid, body)

    def query(self, queryid=None, orderid=None, secret=None, merid=None):
        q = {"merid": merid or self.merid}
        if queryid is not None:
            q["queryid"] = queryid
        if orderid is not None:
            q["orderid"] = orderid
        text, sign = cashier_seal(q, secret or self.secret)
        r = post_form(self.server.port, "/api/query", {"req": text, "sign": sign})
        return r

    def query_answer(self, **kw):
        r = self.query(**kw)
        env = r.json
        return cashier_open(env["resp"], env["sign"], self.secret)


def back_notify_of(rec, secret):
    """The JSON of a back notify the receiver got (form resp + sign), its sign checked."""
    return cashier_open(rec["form"]["resp"], rec["form"]["sign"], secret)


# ------------------------------------------------------------------------------------------------------ browser

BROWSER_DIR = os.path.join(REPO, "tests", "browser")


def browser_artifacts():
    """Where the browser tests put their screenshots: build/artifacts/browser/<backend>/."""
    return os.path.join(REPO, "build", "artifacts", "browser", backend())


def require_browser():
    """The browser tests need node, Debian's chromium and tests/browser/node_modules (`make test` installs them):
    fails without them, or skips when PAYGATE_BROWSER_OPTIONAL=1 (a machine without a browser)."""
    why = None
    if shutil.which("node") is None:
        why = "node is not installed (scripts/install-deps.sh installs it)"
    elif not os.path.exists("/usr/bin/chromium"):
        why = "/usr/bin/chromium is not installed (scripts/install-deps.sh installs it)"
    elif not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        why = "tests/browser/node_modules is missing (npm ci --prefix tests/browser)"
    if why and os.environ.get("PAYGATE_BROWSER_OPTIONAL") == "1":
        raise unittest.SkipTest(why)
    if why:
        raise AssertionError("browser test cannot run: " + why)


def run_checkout_page(tc, *args, timeout=180):
    """Runs tests/browser/checkout_page.mjs; asserts it succeeded and returns its JSON result."""
    cmd = ["node", os.path.join(BROWSER_DIR, "checkout_page.mjs")] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=BROWSER_DIR)
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    err = p.stderr.decode("utf-8", "replace")
    tc.assertEqual(p.returncode, 0, "checkout_page.mjs failed:\nstdout: %s\nstderr: %s" % ("\n".join(out), err))
    result = json.loads(out[-1])
    tc.assertTrue(result.get("ok"), result)
    return result


# --------------------------------------------------------------------------------------------------- TestCase

class PaygateTestCase(unittest.TestCase):
    """Prints the logs of every live server (and the receivers' request summary) when a test fails."""

    maxDiff = 4000

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        own = cls.__dict__.get("setUpClass")
        if own is None:
            return
        fn = own.__func__

        def setUpClass(klass):
            try:
                fn(klass)
            except unittest.SkipTest:
                raise
            except BaseException:
                dump_diagnostics("after setUpClass of %s failed" % klass.__name__)
                raise
        cls.setUpClass = classmethod(setUpClass)

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        closed_before = len(_CLOSED_SERVERS)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            dump_diagnostics("after failure of %s" % self.id(), _CLOSED_SERVERS[closed_before:])
        return out


def dump_diagnostics(title, also=()):
    sys.stderr.write("\n========== diagnostics %s ==========\n" % title)
    for s in list(_ACTIVE_SERVERS) + list(also):
        sys.stderr.write(s.log_tail() + "\n")
    for r in list(_ACTIVE_RECEIVERS):
        sys.stderr.write(r.summary() + "\n")
    sys.stderr.flush()


def start_or_dump(server):
    try:
        return server.start()
    except Exception:
        dump_diagnostics("server start failed")
        raise


if __name__ == "__main__":
    print("harness self-test ok; binary:", os.environ.get("PAYGATE_BIN") or os.path.join(REPO, "build", "paygate"))
