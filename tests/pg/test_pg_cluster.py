"""The pg_cluster API other suites rely on: start, create_database, drop_database, stop (stdlib only)."""

import os
import shutil
import subprocess
import tempfile
import unittest

from pg_cluster import Cluster, _bin_dir


def psql(url, sql):
    return subprocess.run([os.path.join(_bin_dir(), "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url,
                           "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)


class ClusterApiTest(unittest.TestCase):
    def test_start_create_drop_stop(self):
        base = tempfile.mkdtemp(prefix="pg-cluster-test-")
        self.addCleanup(shutil.rmtree, base, True)
        cluster = Cluster(os.path.join(base, "cluster"))
        admin_url = cluster.start()
        try:
            self.assertRegex(admin_url, r"^postgresql://postgres@127\.0\.0\.1:\d+/postgres$")
            url = cluster.create_database("t_api")
            self.assertEqual(url, admin_url.rsplit("/", 1)[0] + "/t_api")
            out = psql(url, "SELECT current_database()")
            self.assertEqual(out.returncode, 0, out.stdout)
            self.assertEqual(out.stdout.decode().strip(), "t_api")
            out = psql(admin_url, "SHOW listen_addresses")
            self.assertEqual(out.stdout.decode().strip(), "127.0.0.1")
            cluster.drop_database("t_api")
            out = psql(url, "SELECT 1")
            self.assertNotEqual(out.returncode, 0, "the dropped database still answers")
            with self.assertRaises(ValueError):
                cluster.create_database("bad name; DROP")
        finally:
            cluster.stop()
        self.assertFalse(os.path.exists(os.path.join(base, "cluster")), "stop() removes base_dir")


if __name__ == "__main__":
    unittest.main()
