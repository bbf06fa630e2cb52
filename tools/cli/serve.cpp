// integrad serve: the explorer, a local web page to explore models, methods and axioms. One page
// (HTML, CSS, JavaScript compiled into the program) and a JSON API (explorer_api.h) on loopback.
//
// A local server is reachable from every page the user's browser opens, so: it listens on
// 127.0.0.1 unless --host says otherwise (with a warning); a request whose Host header is not the
// served address is refused (DNS rebinding); every API request carries a per-run token that only
// the served page knows (CSRF: another site's page cannot read it); requests name models and
// examples by index, never a path; bodies are capped; the page escapes every string it shows.
#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <random>
#include <thread>

#include "command.h"
#include "explorer_api.h"
#include "explorer_assets.h"
#include "stop_signal.h"

namespace integrad::cli {
namespace {

using json = nlohmann::json;
using namespace explorer;

constexpr size_t kMaxBody = size_t(4) << 20;  // a 3x224x224 image as JSON numbers fits

struct ServeArgs {
  std::vector<std::string> models;
  std::string data, inputs, host = "127.0.0.1";
  int port = 8765;
  int64_t limit = 500;
};

std::string random_token() {
  std::random_device rd;
  std::string t;
  for (int i = 0; i < 4; ++i) t += fmt::format("{:08x}", rd());
  return t;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) { send_json(res, status, {{"error", message}}); }

uint64_t job_id(const httplib::Request& req) {
  const std::string v = req.get_param_value("id");
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) throw BadRequest("'id' must be a job number");
  return std::stoull(v);
}

void serve(const ServeArgs& a) {
  const bool loopback = a.host == "127.0.0.1" || a.host == "localhost" || a.host == "::1";
  if (!loopback)
    fmt::print(stderr, "integrad serve: warning: listening on {}: any machine that reaches it can use the explorer and see your models and data\n", a.host);
  if (a.data.empty() == a.inputs.empty()) throw std::invalid_argument("give the examples to explore: --data NAME or --inputs X.npy|X.npz|X.csv");
  const Session session = open_session(a.models, a.data, a.inputs, a.limit);
  const std::string token = random_token();
  JobTable jobs;
  httplib::Server svr;
  svr.set_payload_max_length(kMaxBody);
  // Threads for connections: a browser keeps up to six open and a few clients may poll at once (the
  // computing is on the job pool, explorer_jobs.h); an idle connection gives its thread back soon.
  svr.new_task_queue = [] { return new httplib::ThreadPool(16); };
  svr.set_keep_alive_timeout(1);
  // SO_REUSEADDR (a restart binds at once) but not httplib's default SO_REUSEPORT, with which a
  // second explorer on the same port would share it and answer half the requests with its token.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  svr.set_default_headers({{"Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
                           {"X-Content-Type-Options", "nosniff"},
                           {"Referrer-Policy", "no-referrer"},
                           {"Cache-Control", "no-store"}});
  int port = a.port == 0 ? svr.bind_to_any_port(a.host) : (svr.bind_to_port(a.host, a.port) ? a.port : -1);
  if (port < 0) throw std::runtime_error(fmt::format("--port {}: cannot listen on {} (in use?)", a.port, a.host));
  const std::string shown_host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  std::vector<std::string> allowed_hosts = {fmt::format("{}:{}", shown_host, port)};
  if (loopback) allowed_hosts.insert(allowed_hosts.end(), {fmt::format("127.0.0.1:{}", port), fmt::format("localhost:{}", port), fmt::format("[::1]:{}", port)});

  svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    if (std::find(allowed_hosts.begin(), allowed_hosts.end(), host) == allowed_hosts.end()) {
      send_error(res, 403, "this server answers requests for " + allowed_hosts[0] + " only");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path.starts_with("/api/") && req.get_header_value("X-Integrad-Token") != token) {
      send_error(res, 403, "missing or wrong X-Integrad-Token: the explorer's page carries it; reload the page");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    send_error(res, res.status, res.status == 413 ? fmt::format("the request is larger than {} bytes", kMaxBody)
                                                  : res.status == 404 ? "no such page" : fmt::format("HTTP status {}", res.status));
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const BadRequest& e) {
      send_error(res, 400, e.what());
    } catch (const Busy& e) {
      send_error(res, 503, e.what());
    } catch (const json::exception& e) {
      send_error(res, 400, std::string("bad JSON: ") + e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  });

  for (const char* name : {"index.html", "app.js", "style.css"}) {
    const std::string path = std::string(name) == "index.html" ? "/" : std::string("/") + name;
    const std::string type = path == "/" ? "text/html; charset=utf-8" : path.ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    std::string body(explorer_asset(name));
    // The token is hex: nothing to escape in the HTML.
    if (path == "/") body.replace(body.find("{{TOKEN}}"), 9, token);
    svr.Get(path, [body, type](const httplib::Request&, httplib::Response& res) { res.set_content(body, type.c_str()); });
  }
  const json info_json = info(session), examples_json = examples(session);
  svr.Get("/api/info", [&](const httplib::Request&, httplib::Response& res) { send_json(res, 200, info_json); });
  svr.Get("/api/examples", [&](const httplib::Request&, httplib::Response& res) { send_json(res, 200, examples_json); });
  svr.Get("/api/example", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string v = req.get_param_value("i");
    if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) throw BadRequest("'i' must be an example's index");
    send_json(res, 200, example(session, std::stoll(v)));
  });
  svr.Post("/api/run", [&](const httplib::Request& req, httplib::Response& res) {
    const json request = json::parse(req.body);
    check(session, request);  // a bad request is refused now, not after it waited in the queue
    if (request.at("op") == "predict") {
      // One forward pass: answered at once, never queued behind long explanations, so sliders and
      // brushes stay live while the workers are busy.
      Job inline_job;
      return send_json(res, 200, {{"state", "done"}, {"progress", 1}, {"result", run(session, request, inline_job)}});
    }
    auto job = jobs.submit([&session, request](Job& j) { return run(session, request, j); });
    if (req.get_param_value("wait") != "1") return send_json(res, 202, {{"job", job->id}});
    jobs.wait(*job);
    json status = jobs.status(*job);
    send_json(res, status["state"] == "done" ? 200 : status["state"] == "cancelled" ? 409 : 400, status);
  });
  svr.Get("/api/job", [&](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs.find(job_id(req));
    if (!job) return send_error(res, 404, "no such job (finished jobs are kept for a while only)");
    send_json(res, 200, jobs.status(*job));
  });
  svr.Post("/api/cancel", [&](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs.find(job_id(req));
    if (!job) return send_error(res, 404, "no such job");
    job->cancel = true;
    send_json(res, 200, {{"job", job->id}, {"cancel", true}});
  });

  catch_stop_signals();
  std::thread watcher([&] {
    while (!stop_requested && !svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    svr.stop();
  });
  fmt::print("integrad serve: {} models, {} examples from {}\n", session.models.size(), session.data.inputs.size(0), session.data.source);
  fmt::print("integrad serve: open http://{}:{}/  (Ctrl-C stops)\n", shown_host, port);
  std::fflush(stdout);
  svr.listen_after_bind();
  stop_requested = true;
  watcher.join();
  // Ctrl-C or SIGTERM is how a server ends, not an interruption of work to undo: exit 0.
  nn::stop_signal.store(0);
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ServeArgs>();
  cmd.add_option("MODEL", a->models, "Model files (.safetensors); a second one is compared with the first on the same examples")->required();
  cmd.add_option("--data", a->data, "Explore a named data set's test split (integrad dataset --help lists them)");
  cmd.add_option("--inputs", a->inputs, "Explore these examples: .npy [N, ...], .npz (x and, for the filters, y), .csv (a header of feature names) or one PNG image");
  cmd.add_option("--limit", a->limit, "At most this many examples")->default_val(500)->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd.add_option("--port", a->port, "TCP port (0: any free one)")->default_val(8765)->check(CLI::Range(0, 65535));
  cmd.add_option("--host", a->host, "Address to listen on; anything but loopback exposes the explorer to the network")->default_val("127.0.0.1");
  cmd.callback([a] { serve(*a); });
}

const bool registered = register_command({"serve", "The explorer: a local web page to explore models, methods and axioms (on 127.0.0.1 unless --host)", setup});

}  // namespace
}  // namespace integrad::cli
