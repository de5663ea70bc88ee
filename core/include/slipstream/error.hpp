#pragma once
// Errors a user can act on. The message is one line that names the thing
// (file, file:line, URI) and says what is wrong; callers print it as is.
#include <stdexcept>
#include <string>

namespace ss {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bad configuration: INI syntax or values, label files, class groups.
class ConfigError : public Error {
public:
    using Error::Error;
};

// A model that cannot be loaded or whose outputs do not fit the parser.
class ModelError : public Error {
public:
    using Error::Error;
};

}  // namespace ss
