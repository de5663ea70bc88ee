#include "http_server.hpp"

#include "slipstream/json.hpp"

#include <memory>

namespace slipstream {

namespace {

constexpr const char* too_large_key = "slipstream-body-too-large";

// Compares in time that depends only on the lengths: a wrong token's answer
// tells nothing about how much of it was right.
bool same_secret(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

}  // namespace

std::string status_line(int status) {
    const char* phrase = soup_status_get_phrase(static_cast<guint>(status));
    return "HTTP/1.1 " + std::to_string(status) + " " + (phrase ? phrase : "");
}

HttpResponse json_error(int status, const std::string& reason, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.body = "{\"status\":";
    ss::append_json_string(r.body, status_line(status));
    r.body += ",\"reason\":";
    ss::append_json_string(r.body, reason);
    r.body += ",\"error\":";
    ss::append_json_string(r.body, message);
    r.body += "}";
    return r;
}

HttpServer::HttpServer() {
    server_ = SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "slipstream", nullptr));
    g_signal_connect(server_, "request-started", G_CALLBACK(&HttpServer::on_request_started), this);
    // One handler for every path: the routes table below answers, so unknown
    // paths and methods get the same JSON errors as everything else.
    soup_server_add_handler(server_, nullptr, &HttpServer::on_request, this, nullptr);
}

HttpServer::~HttpServer() {
    if (server_) {
        soup_server_disconnect(server_);
        g_object_unref(server_);
    }
}

void HttpServer::route(const std::string& method, const std::string& path, Handler handler, Access access) {
    Route& r = routes_[path];
    r.by_method[method] = std::move(handler);
    r.access = access;
}

void HttpServer::route_async(const std::string& method, const std::string& path, AsyncHandler handler, Access access) {
    Route& r = routes_[path];
    r.async_by_method[method] = std::move(handler);
    r.access = access;
}

const HttpServer::Route* HttpServer::find_route(const std::string& path) const {
    if (const auto it = routes_.find(path); it != routes_.end()) return &it->second;
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash + 1 == path.size()) return nullptr;
    const auto parent = routes_.find(path.substr(0, slash) + "/*");
    return parent == routes_.end() ? nullptr : &parent->second;
}

std::string HttpServer::listen(const std::string& address, int port) {
    GInetAddress* inet = g_inet_address_new_from_string(address.c_str());
    if (!inet) return "--bind " + address + " is not an IP address: give one such as 0.0.0.0 or 127.0.0.1";
    GSocketAddress* where = g_inet_socket_address_new(inet, static_cast<guint16>(port));
    g_object_unref(inet);
    GError* error = nullptr;
    const gboolean ok = soup_server_listen(server_, where, static_cast<SoupServerListenOptions>(0), &error);
    g_object_unref(where);
    if (!ok) {
        std::string why = "HTTP API: cannot listen on " + address + ":" + std::to_string(port) + " (" +
                          (error ? error->message : "unknown error") +
                          "); choose another port with --api-port N (or API_PORT), or --api-port 0 to run without the API";
        g_clear_error(&error);
        return why;
    }
    port_ = port;
    return {};
}

std::string HttpServer::url(const std::string& shown_host) const { return "http://" + shown_host + ":" + std::to_string(port_); }

HttpResponse HttpServer::refusal(SoupServerMessage* message, const std::string& path, bool body_known) const {
    const Route* found = find_route(path);
    if (!found) {
        std::string known;
        for (const auto& [p, r] : routes_) known += (known.empty() ? "" : ", ") + p;
        return json_error(SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "no such path: " + path + "; this server answers " + known);
    }
    const Route& r = *found;
    if (r.access == Access::token && !token_.empty()) {
        const char* given = soup_message_headers_get_one(soup_server_message_get_request_headers(message), "Authorization");
        const std::string expected = "Bearer " + token_;
        if (!given || !same_secret(given, expected)) {
            HttpResponse refused = json_error(SOUP_STATUS_UNAUTHORIZED, "UNAUTHORIZED",
                                              std::string(given ? "wrong token" : "no token") +
                                                  ": send the header 'Authorization: Bearer <token>' with the token slipstream was "
                                                  "given (--api-token, API_TOKEN or --api-token-file)");
            return refused;
        }
    }
    const std::string method = soup_server_message_get_method(message);
    if (!r.by_method.count(method) && !r.async_by_method.count(method)) {
        std::map<std::string, bool> methods;
        for (const auto& [m, h] : r.by_method) methods[m] = true;
        for (const auto& [m, h] : r.async_by_method) methods[m] = true;
        std::string allowed;
        for (const auto& [m, h] : methods) allowed += (allowed.empty() ? "" : " or ") + m;
        return json_error(SOUP_STATUS_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", path + " takes " + allowed + ", not " + method);
    }
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(message);
    std::size_t length = 0;
    if (body_known) {
        length = static_cast<std::size_t>(GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(message), too_large_key)));
    } else if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH) {
        length = static_cast<std::size_t>(soup_message_headers_get_content_length(headers));
    }
    if (length > body_limit_) {
        return json_error(SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "BODY_TOO_LARGE",
                          "the request body has " + std::string(body_known ? "at least " : "") + std::to_string(length) + " bytes; this server takes at most " +
                              std::to_string(body_limit_) + " (one camera per request)");
    }
    HttpResponse none;
    none.status = 0;
    return none;
}

void HttpServer::send(SoupServerMessage* message, const HttpResponse& response) {
    soup_server_message_set_status(message, static_cast<guint>(response.status), nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(message);
    for (const auto& [name, value] : response.headers) soup_message_headers_replace(headers, name.c_str(), value.c_str());
    soup_server_message_set_response(message, response.content_type.c_str(), SOUP_MEMORY_COPY, response.body.data(),
                                     response.body.size());
}

void HttpServer::on_request_started(SoupServer*, SoupServerMessage* message, gpointer self) {
    g_signal_connect(message, "got-headers", G_CALLBACK(&HttpServer::on_got_headers), self);
    g_signal_connect(message, "got-chunk", G_CALLBACK(&HttpServer::on_got_chunk), self);
}

// Refusals that need no body are decided as soon as the headers are in (an
// announced body over the limit, no token, no such path): the answer is set
// here and the body, which libsoup still reads unless the client asked
// "Expect: 100-continue", is thrown away as it comes instead of kept.
void HttpServer::on_got_headers(SoupServerMessage* message, gpointer data) {
    auto* self = static_cast<HttpServer*>(data);
    GUri* uri = soup_server_message_get_uri(message);
    const HttpResponse refused = self->refusal(message, g_uri_get_path(uri), false);
    if (refused.status) {
        soup_message_body_set_accumulate(soup_server_message_get_request_body(message), FALSE);
        send(message, refused);
    }
}

// A body without an announced length (chunked) is counted as it comes: past
// the limit, what came is dropped and the rest is not kept.
void HttpServer::on_got_chunk(SoupServerMessage* message, GBytes*, gpointer data) {
    auto* self = static_cast<HttpServer*>(data);
    SoupMessageBody* body = soup_server_message_get_request_body(message);
    if (!soup_message_body_get_accumulate(body) || static_cast<std::size_t>(body->length) <= self->body_limit_) return;
    g_object_set_data(G_OBJECT(message), too_large_key, GSIZE_TO_POINTER(static_cast<gsize>(body->length)));
    soup_message_body_truncate(body);
    soup_message_body_set_accumulate(body, FALSE);
}

void HttpServer::on_request(SoupServer*, SoupServerMessage* message, const char* path, GHashTable* query, gpointer data) {
    auto* self = static_cast<HttpServer*>(data);
    if (soup_server_message_get_status(message) != 0) return;  // refused when the headers came
    const HttpResponse refused = self->refusal(message, path, true);  // a chunked body's length is known only now
    if (refused.status) {
        send(message, refused);
        return;
    }
    HttpRequest request;
    request.method = soup_server_message_get_method(message);
    request.path = path;
    if (query) {
        GHashTableIter it;
        gpointer name = nullptr, value = nullptr;
        g_hash_table_iter_init(&it, query);
        while (g_hash_table_iter_next(&it, &name, &value)) {
            request.query[static_cast<const char*>(name)] = value ? static_cast<const char*>(value) : "";
        }
    }
    SoupMessageBody* body = soup_server_message_get_request_body(message);
    if (body && body->length) request.body.assign(body->data, static_cast<std::size_t>(body->length));
    if (const char* type = soup_message_headers_get_content_type(soup_server_message_get_request_headers(message), nullptr)) {
        request.content_type = type;
    }
    const Route& route = *self->find_route(request.path);
    if (const auto async = route.async_by_method.find(request.method); async != route.async_by_method.end()) {
        // Held open until the reply; the reference keeps the message while we wait.
        soup_server_message_pause(message);
        g_object_ref(message);
        auto replied = std::make_shared<bool>(false);
        Reply reply = [message, replied](const HttpResponse& response) {
            if (*replied) return;
            *replied = true;
            send(message, response);
            soup_server_message_unpause(message);
            g_object_unref(message);
        };
        try {
            async->second(request, reply);
        } catch (const std::exception& e) {
            reply(json_error(SOUP_STATUS_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", e.what()));
        }
        return;
    }
    const Handler& handler = route.by_method.at(request.method);
    HttpResponse response;
    try {
        response = handler(request);
    } catch (const std::exception& e) {
        response = json_error(SOUP_STATUS_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", e.what());
    }
    send(message, response);
}

}  // namespace slipstream
