#!/usr/bin/env python3
"""A throw-away PostgreSQL cluster for tests. Python 3 standard library only.

    from pg_cluster import Cluster
    cluster = Cluster("/tmp/some-dir")          # base_dir: created if missing, removed by stop()
    admin_url = cluster.start()                 # postgresql://postgres@127.0.0.1:PORT/postgres
    url = cluster.create_database("t_abc")      # postgresql://postgres@127.0.0.1:PORT/t_abc
    cluster.drop_database("t_abc")
    cluster.stop()                              # stops the server and removes base_dir

Command line (what the CTest fixture uses):

    python3 tests/pg/pg_cluster.py start DIR    # prints the admin URL and writes it to DIR/url
    python3 tests/pg/pg_cluster.py stop DIR

The server listens only on 127.0.0.1, on a free port, with its unix socket inside base_dir, and trusts every
local connection (no password). It is tuned for tests, not for data: fsync, synchronous commit to disk and full
page writes are off, so a crash of the machine may lose it. Never point production at it.

initdb refuses to run as root: when this runs as root, the server runs as the `postgres` system user, which then
owns base_dir (root can still read everything, e.g. to search the data files for plaintext).
"""

import glob
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
PORT_ATTEMPTS_MAX = 5
# A unix socket path is limited to 107 bytes; the server adds "/.s.PGSQL.NNNNN".
SOCKET_DIR_BYTES_MAX = 90

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Test settings: durability is traded for speed (fsync=off is acceptable for tests only).
TEST_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "on",        # paygate expects it on; with fsync off it costs nothing here
    "max_connections": "200",          # ctest -j2: two test processes, each with writers, readers and a second node
    "shared_buffers": "32MB",
    "deadlock_timeout": "100ms",       # the deadlock test waits this long for the detector
    "max_wal_size": "256MB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] %d '",
    "timezone": "'UTC'",
}


def _bin_dir():
    """The newest installed PostgreSQL server binaries (Debian keeps them out of PATH)."""
    override = os.environ.get("PAYGATE_PG_BIN_DIR")
    if override:
        return override
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if candidates:
        def version(path):
            try:
                return int(path.split("/")[4])
            except (IndexError, ValueError):
                return 0
        return os.path.dirname(max(candidates, key=version))
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise RuntimeError("PostgreSQL server binaries not found (install the postgresql package or set PAYGATE_PG_BIN_DIR)")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_name(name):
    if not _NAME_RE.match(name):
        raise ValueError("database name must match %s, got %r" % (_NAME_RE.pattern, name))


class Cluster:
    def __init__(self, base_dir):
        self.base_dir = os.path.abspath(base_dir)
        self.data_dir = os.path.join(self.base_dir, "data")
        self.log_file = os.path.join(self.base_dir, "postgres.log")
        self.port = None
        self.admin_url = None
        self._bin = _bin_dir()
        self._run_as = None
        if os.geteuid() == 0:
            self._run_as = pwd.getpwnam("postgres")
        if len(self.base_dir.encode()) > SOCKET_DIR_BYTES_MAX:
            raise ValueError("base_dir is too long for a unix socket path (%d bytes max): %s"
                             % (SOCKET_DIR_BYTES_MAX, self.base_dir))

    # ------------------------------------------------------------------------------------------------- running

    def _run(self, args, check=True, timeout=None):
        kwargs = {}
        if self._run_as is not None:
            kwargs = {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}
        env = dict(os.environ, LC_ALL="C", PGTZ="UTC")
        env.pop("PGDATABASE", None)
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              cwd=self.base_dir, env=env, timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(args), proc.returncode,
                                                              proc.stdout.decode(errors="replace")))
        return proc

    def _psql(self, sql, database="postgres"):
        """Runs one statement through the unix socket as the superuser."""
        return self._run([os.path.join(self._bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                          "-h", self.base_dir, "-p", str(self.port), "-U", "postgres", "-d", database,
                          "-c", sql], timeout=120)

    def _url(self, database):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, database)

    # ------------------------------------------------------------------------------------------------- API

    def _make_reachable(self):
        """As root the server runs as `postgres`, which must be able to reach base_dir. A parent inside the system
        temp directory (e.g. made by tempfile.mkdtemp, mode 0700) gets o+x (search, not read); anywhere else this
        raises rather than loosen permissions the caller did not ask to change."""
        if self._run_as is None:
            return
        tmp = os.path.realpath(tempfile.gettempdir())
        parent = os.path.dirname(self.base_dir)
        while True:
            st = os.stat(parent)
            if st.st_uid == self._run_as.pw_uid:
                searchable = st.st_mode & stat.S_IXUSR
            elif st.st_gid == self._run_as.pw_gid:
                searchable = st.st_mode & stat.S_IXGRP
            else:
                searchable = st.st_mode & stat.S_IXOTH
            if not searchable:
                real = os.path.realpath(parent)
                if real != tmp and real.startswith(tmp + os.sep):
                    os.chmod(parent, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
                else:
                    raise RuntimeError("the postgres user cannot reach %s (no search permission on %s); choose a "
                                       "base_dir it can reach, e.g. under %s" % (self.base_dir, parent, tmp))
            if parent == os.path.dirname(parent):
                return
            parent = os.path.dirname(parent)

    def start(self):
        """initdb (first time), start the server, return the admin URL (database `postgres`)."""
        os.makedirs(self.base_dir, exist_ok=True)
        self._make_reachable()
        if self._run_as is not None:
            os.chown(self.base_dir, self._run_as.pw_uid, self._run_as.pw_gid)
        os.chmod(self.base_dir, 0o700)
        if not os.path.exists(os.path.join(self.data_dir, "PG_VERSION")):
            self._run([os.path.join(self._bin, "initdb"), "-D", self.data_dir, "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120)
        last_error = None
        for _ in range(PORT_ATTEMPTS_MAX):
            port = _free_port()
            options = " ".join("-c %s=%s" % (k, v) for k, v in TEST_SETTINGS.items())
            options += " -c port=%d -c unix_socket_directories='%s'" % (port, self.base_dir)
            proc = self._run([os.path.join(self._bin, "pg_ctl"), "-D", self.data_dir, "-l", self.log_file,
                              "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"],
                             check=False, timeout=START_TIMEOUT_S + 10)
            if proc.returncode == 0:
                self.port = port
                self.admin_url = self._url("postgres")
                return self.admin_url
            # Most likely another process took the port between our probe and the server's bind.
            last_error = proc.stdout.decode(errors="replace") + self._log_tail()
        raise RuntimeError("PostgreSQL did not start after %d attempts:\n%s" % (PORT_ATTEMPTS_MAX, last_error))

    def create_database(self, name):
        _check_name(name)
        self._psql('CREATE DATABASE "%s"' % name)
        return self._url(name)

    def drop_database(self, name):
        _check_name(name)
        self._psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def stop(self):
        """Stops the server (fast shutdown) and removes base_dir."""
        if os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            self._run([os.path.join(self._bin, "pg_ctl"), "-D", self.data_dir, "-m", "fast", "-w",
                       "-t", str(STOP_TIMEOUT_S), "stop"], check=False, timeout=STOP_TIMEOUT_S + 10)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.port = None
        self.admin_url = None

    def _log_tail(self, lines=30):
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        sys.stderr.write("usage: pg_cluster.py start|stop DIR\n")
        return 2
    cluster = Cluster(argv[2])
    if argv[1] == "start":
        # A cluster left behind by an interrupted run: stop it and start afresh.
        if os.path.exists(cluster.base_dir):
            cluster.stop()
        started = time.monotonic()
        url = cluster.start()
        with open(os.path.join(cluster.base_dir, "url.tmp"), "w") as f:
            f.write(url + "\n")
        os.replace(os.path.join(cluster.base_dir, "url.tmp"), os.path.join(cluster.base_dir, "url"))
        print(url)
        sys.stderr.write("pg_cluster: started in %.1f s, data in %s\n" % (time.monotonic() - started,
                                                                          cluster.data_dir))
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
