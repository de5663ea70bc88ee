#pragma once
#include <string>
#include <string_view>

namespace ss {

// "rtsp://user:pass@cam/stream" -> "rtsp://***@cam/stream": user names and
// passwords never reach logs, metadata or the screen.
std::string mask_credentials(std::string_view uri);

// Replaces every credentials part of any URI inside a free text (error messages from libraries quote URIs).
std::string mask_credentials_in_text(std::string_view text);

}  // namespace ss
