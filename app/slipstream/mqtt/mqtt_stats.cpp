#include "mqtt_stats.hpp"

namespace slipstream::mqtt {

MqttStats& mqtt_stats() {
    static MqttStats stats;
    return stats;
}

}  // namespace slipstream::mqtt
