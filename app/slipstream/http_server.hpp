#pragma once
// The one HTTP server of the slipstream command (libsoup 3, on the GLib main
// loop the pipeline runs on). Parts of the program register their routes by
// path and method (the stream API, health, later /metrics, WHEP and the web
// page); the server itself knows none of them. It answers what no route can:
// unknown paths (404), wrong methods (405), bodies over the limit (413, before
// the body is kept when the request says its length) and, with a token set,
// requests without it (401), all as JSON a person can act on.
//
// Handlers run on the main loop, so they may touch the pipeline directly.
#include <libsoup/soup.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace slipstream {

struct HttpRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string> query;  // ?name=value, decoded (a name given twice: its last value)
    std::string body;
    std::string content_type;  // the request's Content-Type, without parameters; empty when none
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // more headers: Location, ...
};

// {"status":"HTTP/1.1 <code> <phrase>","reason":<reason>,"error":<message>}: the
// shape of DeepStream's REST answers, plus a sentence saying what to do.
HttpResponse json_error(int status, const std::string& reason, const std::string& message);
// "HTTP/1.1 200 OK": the status line DeepStream puts in its answers.
std::string status_line(int status);

class HttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;
    // A handler that answers later (WHEP waits for ICE gathering): it calls the
    // reply once, on the main loop; the request is held open until then.
    using Reply = std::function<void(const HttpResponse&)>;
    using AsyncHandler = std::function<void(const HttpRequest&, Reply)>;
    // open: answered without the token (Kubernetes probes carry none).
    enum class Access { token, open };

    HttpServer();
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Empty: every request is allowed. Otherwise `Authorization: Bearer <token>`.
    void require_token(std::string token) { token_ = std::move(token); }
    void set_body_limit(std::size_t bytes) { body_limit_ = bytes; }
    void route(const std::string& method, const std::string& path, Handler handler, Access access = Access::token);
    void route_async(const std::string& method, const std::string& path, AsyncHandler handler, Access access = Access::token);
    // A path ending in "/*" (e.g. "/api/v1/whep/*") answers every path one level
    // below it: resources made at run time, such as WHEP sessions.

    // Listens on address:port; the error as one line, or empty.
    std::string listen(const std::string& address, int port);
    // "http://host:port", as listening.
    std::string url(const std::string& shown_host) const;

private:
    struct Route {
        std::map<std::string, Handler> by_method;
        std::map<std::string, AsyncHandler> async_by_method;
        Access access = Access::token;
    };
    static void on_request_started(SoupServer*, SoupServerMessage* message, gpointer self);
    static void on_got_headers(SoupServerMessage* message, gpointer self);
    static void on_got_chunk(SoupServerMessage* message, GBytes* chunk, gpointer self);
    static void on_request(SoupServer*, SoupServerMessage* message, const char* path, GHashTable*, gpointer self);
    // The answer for a request refused before its handler (401, 404, 405, 413), or status 0.
    HttpResponse refusal(SoupServerMessage* message, const std::string& path, bool body_known) const;
    // The route for a path: its own, else that of its "/*" parent; nullptr when none.
    const Route* find_route(const std::string& path) const;
    static void send(SoupServerMessage* message, const HttpResponse& response);

    SoupServer* server_ = nullptr;
    std::map<std::string, Route> routes_;
    std::string token_;
    std::size_t body_limit_ = 64 * 1024;
    int port_ = 0;
};

}  // namespace slipstream
