#pragma once
// The broker address of --mqtt: mqtt://[user[:password]@]host[:port].
#include <optional>
#include <string>

namespace slipstream::mqtt {

struct BrokerAddress {
    std::string host;
    int port = 1883;
    std::string user, password;  // empty: no login

    // "mqtt://***@host:port" or "mqtt://host:port": what logs may show.
    std::string masked() const;
};

// Percent-escapes in the user and password are decoded (a '@' in a password is
// written %40). Returns nothing for anything else than that shape; then *why,
// when given, says what is wrong in a few words (never quoting the password).
std::optional<BrokerAddress> parse_broker_url(const std::string& url, std::string* why = nullptr);

// What --mqtt expects, for errors and help. Written so that the credentials
// masking of every printed line leaves it alone (no '@' after "://").
inline constexpr const char* broker_url_shape = "mqtt://HOST[:PORT], with a login USER:PASSWORD@ before HOST";
inline constexpr const char* broker_url_help =
    "publish track events and counts to this MQTT broker: mqtt://HOST[:PORT] (1883), with a login "
    "USER:PASSWORD@ before HOST (default: off)";

}  // namespace slipstream::mqtt
