#include "app/server_app.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/due_worker.h"
#include "app/master_key.h"
#include "app/open_store.h"
#include "console/api.h"
#include "console/assets.h"
#include "http/server.h"
#include "metrics/http_metrics.h"
#include "notify/dispatcher.h"
#include "processors/sandbox/card_processor.h"
#include "processors/sandbox/gateway_processors.h"
#include "protocols/cashier/handlers.h"
#include "protocols/consign/handlers.h"
#include "protocols/gateway/handlers.h"
#include "runtime/waker.h"
#include "storage/async_write.h"

namespace paygate::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

std::pair<std::string, uint16_t> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("server.listen must be HOST:PORT, got " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = parse_int64_strict(listen.substr(colon + 1));
  if (!port || *port > 65535) throw std::runtime_error("server.listen has a bad port: " + listen);
  return {host, static_cast<uint16_t>(*port)};
}

}  // namespace

int serve(const Config& config, const ServeOptions& options) {
  auto box = load_master_key(config.storage.data_dir,
                             config.uses_postgres() ? MasterKeyCreation::kForbidden : MasterKeyCreation::kAllowed);
  auto store = open_store(config, box);
  // A node with the wrong master key could answer nothing that touches a merchant: refuse to start instead.
  try {
    (void)store->read()->merchants();
  } catch (const std::exception& e) {
    spdlog::error("event=master_key_mismatch error=\"{}\"", e.what());
    std::cerr << "paygate: the master key does not open the stored merchant keys (wrong PAYGATE_MASTER_KEY or "
                 "master.key for this database?): "
              << e.what() << std::endl;
    return 1;
  }
  SystemClock clock;
  SecureRandom random;
  metrics::Registry registry;

  auto& batch_hist = registry.histogram("paygate_storage_commit_batch_size", "Requests committed per transaction.",
                                        {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  auto& commit_hist = registry.histogram("paygate_storage_commit_duration_seconds",
                                         "Time to run and commit one write transaction.", metrics::latency_buckets_s());
  store->set_commit_observer([&](size_t batch, int64_t commit_us) {
    batch_hist.observe(static_cast<double>(batch));
    commit_hist.observe(static_cast<double>(commit_us) / 1e6);
  });
  auto& sync_hist = registry.histogram("paygate_storage_wal_sync_duration_seconds",
                                       "Time the writer waited for the disk to make one commit's WAL durable (SQLite).",
                                       metrics::latency_buckets_s());
  store->set_sync_observer([&](int64_t sync_us) { sync_hist.observe(static_cast<double>(sync_us) / 1e6); });

  // One event loop per I/O thread: `io` (the first thread: accepting, timers, the processor and the notifier,
  // and a share of the connections) and one more per further thread, for connections only. Threads then share
  // no scheduler queue or lock, and a connection's handlers stay on one thread's caches.
  asio::io_context io(1);
  std::vector<std::unique_ptr<asio::io_context>> connection_ios;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> connection_io_guards;
  const int io_threads = config.io_threads(std::thread::hardware_concurrency());
  for (int i = 1; i < io_threads; ++i) {
    connection_ios.push_back(std::make_unique<asio::io_context>(1));
    connection_io_guards.push_back(asio::make_work_guard(*connection_ios.back()));
  }
  auto stop_io = [&] {
    io.stop();
    for (auto& c : connection_ios) c->stop();
  };

  notify::DispatcherConfig dc;
  dc.allow_private_targets = config.notify.allow_private_targets;
  dc.connect_timeout_ms = config.notify.connect_timeout_ms;
  dc.total_timeout_ms = config.notify.total_timeout_ms;
  dc.in_flight_max = config.notify.in_flight_max;
  dc.in_flight_per_merchant_max = config.notify.in_flight_per_merchant_max;
  dc.claim_lease_margin_ms = config.notify.claim_lease_margin_ms;
  dc.poll_interval_ms = config.notify.poll_interval_ms;
  dc.schedule.consign_retry_step_ms = config.notify.consign_retry_step_ms;
  if (!config.notify.gateway_retry_delays_ms.empty()) {
    dc.schedule.gateway_retry_delays_ms = config.notify.gateway_retry_delays_ms;
  }
  dc.schedule.cashier_retry_unit_ms = config.notify.cashier_retry_unit_ms;
  notify::Dispatcher dispatcher(
      io, *store, clock, dc,
      [](std::string_view protocol, unsigned status, std::string_view body) {
        if (protocol == "consign") return consign::notify_acknowledged(body);
        if (protocol == "gateway") return gateway::callback_acknowledged(status, body);
        if (protocol == "cashier") return cashier::back_notify_acknowledged(body);
        return false;
      },
      registry);

  processors::SandboxCardProcessor card_processor;
  processors::SandboxPayInProcessor sandbox_payin;
  processors::SandboxBank sandbox_bank;
  gateway::Processors gateway_processors;
  // Channels bound to the sandbox are served only in sandbox mode; otherwise a pay-in on them is refused.
  if (config.sandbox.enabled) gateway_processors.payin.emplace(sandbox_payin.name(), &sandbox_payin);
  gateway_processors.bank = &sandbox_bank;
  const notify::ScheduleConfig schedule = dc.schedule;

  std::vector<DueTask> tasks;
  tasks.push_back(DueTask{"consign_cards", [](storage::Tx& tx) { return tx.next_consign_due_ms(); },
                          [&card_processor](storage::Tx& tx, int64_t now_ms) -> Result<size_t> {
                            // Orders are locked row by row (consign_orders_due skips what another node holds).
                            return consign::process_due_orders(tx, card_processor, now_ms, limits::kProcessorBatchMax);
                          }});
  tasks.push_back(DueTask{"gateway_expiry", [](storage::Tx& tx) { return tx.next_payin_expiry_ms(); },
                          [](storage::Tx& tx, int64_t now_ms) -> Result<size_t> {
                            return gateway::expire_pay_ins(tx, now_ms, limits::kProcessorBatchMax);
                          }});
  tasks.push_back(DueTask{"gateway_payouts", [](storage::Tx& tx) { return tx.next_payout_due_ms(); },
                          [&sandbox_bank, schedule](storage::Tx& tx, int64_t now_ms) -> Result<size_t> {
                            return gateway::process_due_payouts(tx, sandbox_bank, now_ms, limits::kProcessorBatchMax,
                                                                schedule);
                          }});
  cashier::Config cac;
  cac.order_expiry_ms = config.cashier.order_expiry_ms;
  cac.utc_offset_minutes = config.cashier.utc_offset_minutes;
  cac.allow_private_targets = config.notify.allow_private_targets;
  cac.catalog_cache_ttl_ms = config.storage.catalog_cache_ttl_ms;
  cac.sandbox = config.sandbox.enabled;
  tasks.push_back(DueTask{"cashier_expiry", [](storage::Tx& tx) { return tx.next_cashier_expiry_ms(); },
                          [cac](storage::Tx& tx, int64_t now_ms) -> Result<size_t> {
                            return cashier::expire_orders(tx, now_ms, limits::kProcessorBatchMax, cac);
                          }});
  tasks.push_back(DueTask{"cashier_settlement", [](storage::Tx& tx) { return tx.next_cashier_settlement_ms(); },
                          [cac](storage::Tx& tx, int64_t now_ms) -> Result<size_t> {
                            return cashier::settle_due(tx, now_ms, now_ms, limits::kProcessorBatchMax, cac);
                          }});
  DueWorker worker(io, *store, clock, std::move(tasks), config.notify.poll_interval_ms, [&] { dispatcher.wake(); });

  consign::Config cc;
  cc.timestamp_skew_s = config.consign.timestamp_skew_s;
  cc.processing_delay_ms = config.sandbox.processing_delay_ms;
  cc.allow_private_targets = config.notify.allow_private_targets;
  cc.catalog_cache_ttl_ms = config.storage.catalog_cache_ttl_ms;
  consign::Service consign_service(*store, box, clock, cc);

  http::Router router;
  consign::register_routes(router, consign::HandlerDeps{consign_service, *store, random, registry,
                                                        [&](int64_t due_ms) { worker.work_due(due_ms); }});

  gateway::Config gc;
  gc.payment_expiry_ms = config.gateway.payment_expiry_ms;
  gc.payout_delay_ms = config.sandbox.payout_delay_ms;
  gc.allow_private_targets = config.notify.allow_private_targets;
  gc.catalog_cache_ttl_ms = config.storage.catalog_cache_ttl_ms;
  gc.schedule = schedule;
  gateway::Service gateway_service(*store, clock, gc, gateway_processors);
  gateway::HandlerDeps gateway_deps{gateway_service,
                                    *store,
                                    clock,
                                    random,
                                    registry,
                                    config.server.public_url,
                                    config.sandbox.enabled,
                                    [&](int64_t due_ms) { worker.work_due(due_ms); },
                                    [&] { dispatcher.wake(); }};
  gateway::register_routes(router, gateway_deps);

  cashier::Service cashier_service(*store, clock, cac);
  cashier::HandlerDeps cashier_deps{cashier_service,
                                    *store,
                                    clock,
                                    random,
                                    registry,
                                    config.server.public_url,
                                    config.sandbox.enabled,
                                    [&](int64_t due_ms) { worker.work_due(due_ms); },
                                    [&] { dispatcher.wake(); }};
  cashier::register_routes(router, cashier_deps);

  // The console's admin API (/admin/api/).
  console::ApiConfig console_config;
  console_config.session_ttl_ms = config.console.session_ttl_ms;
  console_config.session_idle_ms = config.console.session_idle_ms;
  console_config.public_url_is_https = config.server.public_url.starts_with("https://");
  console_config.utc_offset_minutes = config.console.utc_offset_minutes;
  console_config.payout_delay_ms = config.sandbox.payout_delay_ms;
  console_config.cashier_utc_offset_minutes = config.cashier.utc_offset_minutes;
  console::ApiDeps console_deps{*store,
                                *box,
                                clock,
                                random,
                                console_config,
                                [&] { dispatcher.wake(); },
                                [&](int64_t due_ms) { worker.work_due(due_ms); }};
  console::register_routes(router, console_deps);

  // The sandbox's completion endpoint, shared by the protocols with a hosted page (the id says whose order it is).
  // It does not exist outside sandbox mode.
  if (config.sandbox.enabled) {
    router.add(bhttp::verb::post, "/sandbox/payments/{id}/complete", "sandbox.complete",
               [&gateway_deps, &cashier_deps](http::Request& req) -> asio::awaitable<http::Response> {
                 if (req.path_param("id").starts_with("Q"))
                   co_return co_await cashier::sandbox_complete(cashier_deps, req);
                 co_return co_await gateway::sandbox_complete(gateway_deps, req);
               });
  }
  // The console's web app (its JSON API is under /admin/api/); GET / leads to it.
  console::register_asset_routes(router);
  router.add_get_and_head("/healthz", "healthz", [&](http::Request& req) -> asio::awaitable<http::Response> {
    std::function<Result<Unit>(storage::Tx&)> probe = [](storage::Tx&) -> Result<Unit> { return Unit{}; };
    auto st = co_await storage::async_write<Unit>(*store, std::move(probe));
    if (!st.ok()) {
      co_return http::make_response(req, bhttp::status::service_unavailable, "text/plain",
                                    "storage not writable: " + st.error().message + "\n");
    }
    co_return http::make_response(req, bhttp::status::ok, "text/plain", "ok\n");
  });
  auto& queue_gauge = registry.gauge("paygate_storage_write_queue_depth", "Writes waiting for the writer.");
  auto& commits_gauge = registry.gauge("paygate_storage_commits", "Write transactions committed since start.");
  auto& checkpoints_gauge = registry.gauge("paygate_storage_checkpoints",
                                           "Background WAL checkpoints that copied pages since start (SQLite).");
  auto& inline_checkpoints_gauge = registry.gauge(
      "paygate_storage_inline_checkpoints",
      "Checkpoints a commit had to run itself because the WAL passed its hard limit, since start (SQLite).");
  auto& scans_avoided_gauge = registry.gauge(
      "paygate_storage_page_cache_scans_avoided",
      "Commits that skipped SQLite's scan of the whole page cache for pages to drop, since start (SQLite).");
  auto& tail_checkpoints_gauge = registry.gauge(
      "paygate_storage_wal_tail_checkpoints",
      "Times the writer copied the WAL's last frames so that the WAL could start over, since start (SQLite).");
  auto& wal_writes_in_gauge = registry.gauge("paygate_storage_wal_write_calls",
                                             "Writes SQLite made to the write-ahead log since start (SQLite).");
  auto& wal_writes_out_gauge = registry.gauge(
      "paygate_storage_wal_write_syscalls",
      "The write system calls those became after paygate's WAL VFS gathered them, since start (SQLite).");
  auto& wal_syncs_skipped_gauge = registry.gauge(
      "paygate_storage_wal_syncs_skipped",
      "WAL syncs the checkpointer left out, every frame it copies being durable already, since start (SQLite).");
  auto& rejected_gauge = registry.gauge("paygate_storage_writes_rejected",
                                        "Writes refused since start because the write queue was full (server busy).");
  auto& round_trips_gauge = registry.gauge("paygate_storage_round_trips",
                                           "Waits of the writers for the database server since start (PostgreSQL).");
  auto& retries_gauge = registry.gauge("paygate_storage_batch_retries",
                                       "Write batches run again after a deadlock or lost connection (PostgreSQL).");
  router.add_get_and_head("/metrics", "metrics", [&](http::Request& req) -> asio::awaitable<http::Response> {
    auto stats = store->stats();
    queue_gauge.set(static_cast<int64_t>(stats.queue_depth));
    commits_gauge.set(static_cast<int64_t>(stats.commits));
    rejected_gauge.set(static_cast<int64_t>(stats.rejected_queue_full));
    checkpoints_gauge.set(static_cast<int64_t>(stats.checkpoints));
    inline_checkpoints_gauge.set(static_cast<int64_t>(stats.inline_checkpoints));
    scans_avoided_gauge.set(static_cast<int64_t>(stats.page_cache_scans_avoided));
    tail_checkpoints_gauge.set(static_cast<int64_t>(stats.wal_tail_checkpoints));
    wal_writes_in_gauge.set(static_cast<int64_t>(stats.wal_writes_in));
    wal_writes_out_gauge.set(static_cast<int64_t>(stats.wal_writes_out));
    wal_syncs_skipped_gauge.set(static_cast<int64_t>(stats.wal_syncs_skipped));
    round_trips_gauge.set(static_cast<int64_t>(stats.round_trips));
    retries_gauge.set(static_cast<int64_t>(stats.batch_retries));
    co_return http::make_response(req, bhttp::status::ok, "text/plain; version=0.0.4", registry.render());
  });

  http::ServerConfig sc;
  sc.body_bytes_max = config.server.body_bytes_max;
  sc.connections_max = config.server.connections_max;
  sc.session_contexts.push_back(&io);
  for (auto& c : connection_ios) sc.session_contexts.push_back(c.get());
  bool access_log = config.log.access_log;
  auto http_metrics = std::make_shared<metrics::HttpRequestMetrics>(registry);
  http::Server server(io, sc, router, [http_metrics, access_log](const http::RequestRecord& r) {
    http_metrics->record(r.route_name, r.status, r.latency_us);
    if (access_log) {
      spdlog::info("event=request request_id={} remote={} method={} path={} route={} status={} latency_us={}",
                   r.request_id, r.remote_ip, r.method, r.path, r.route_name, r.status, r.latency_us);
    }
  });

  auto [host, port] = split_listen(config.server.listen);
  auto bound = server.listen(host, port);
  if (!bound.ok()) {
    spdlog::critical("event=listen_failed listen={} error=\"{}\"", config.server.listen, bound.error().message);
    store->close();
    return 1;
  }
  std::cout << "paygate listening on http://" << bound->address().to_string() << ":" << bound->port() << std::endl;
  if (!options.port_file.empty()) {
    std::string tmp = options.port_file + ".tmp";
    { std::ofstream(tmp) << bound->port() << "\n"; }
    std::filesystem::rename(tmp, options.port_file);
  }
  spdlog::info(
      "event=started listen={}:{} data_dir={} engine={} database={} group_commit={} processing_delay_ms={} "
      "io_threads={}",
      bound->address().to_string(), bound->port(), config.storage.data_dir, store->engine(), config.database_display(),
      config.storage.group_commit, config.sandbox.processing_delay_ms, io_threads);

  // One node (SQLite): claims left by a previous process (killed mid-delivery) can be retried now instead of
  // after their lease.
  // On a shared database the claims may belong to a live node: they expire with their lease instead.
  if (store->single_node()) {
    int64_t released = 0;
    auto release = store->write_sync([&](storage::Tx& tx) -> Status {
      released = tx.release_notification_claims();
      return ok_status();
    });
    if (!release.ok()) spdlog::warn("event=claim_release_failed error=\"{}\"", release.error().message);
    if (released > 0) spdlog::info("event=claims_released count={}", released);
  }

  worker.start();
  dispatcher.start();

  // Graceful drain: stop accepting, let requests in flight finish (their commits included), stop the loops,
  // let notification attempts in flight be recorded, then stop.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("event=draining signal={}", sig);
    server.stop_accepting();
    worker.stop();
    dispatcher.stop();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer t(co_await asio::this_coro::executor);
          auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.server.drain_timeout_ms);
          while ((server.in_flight_requests() > 0 || dispatcher.in_flight() > 0) &&
                 std::chrono::steady_clock::now() < deadline) {
            t.expires_after(std::chrono::milliseconds(10));
            co_await t.async_wait(asio::use_awaitable);
          }
          stop_io();
        },
        asio::detached);
  });

  std::vector<std::thread> threads;
  for (auto& c : connection_ios) {
    threads.emplace_back([&c] {
      pthread_setname_np(pthread_self(), "pg-io");
      c->run();
    });
  }
  pthread_setname_np(pthread_self(), "pg-io");
  io.run();
  stop_io();  // whatever ended the main loop ends the others too
  for (auto& t : threads) t.join();
  store->close();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace paygate::app
