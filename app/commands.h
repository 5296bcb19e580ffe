#pragma once
// The command line. Each sub-command lives in its own cmd_*.cpp and registers here; errors are
// sentences on stderr and the exit codes below (documented in the README).
#include <string>
#include <vector>

namespace strata::app {

enum ExitCode : int {
    kOk = 0,
    kInvalid = 1,   // the document or its graph is invalid (validate), or training failed
    kUsage = 2,     // bad command line
    kIoError = 3,   // a file could not be read or written
    kStopped = 4,   // interrupted (Ctrl-C); what was done is saved
};

using Args = std::vector<std::string>;

struct Command {
    const char* name;
    const char* synopsis;  // "validate FILE"
    const char* summary;   // one line for --help
    int (*run)(const Args& args);
};

const std::vector<Command>& commands();
int run(int argc, char** argv);
// Opens the studio; returns its exit code. Defined by the UI when it is built.
int runStudio(int argc, char** argv);
// Lets core::availableDevices() list the Vulkan devices (the studio's device box).
void registerDeviceList();

// "--epochs 3" style options: returns the value after `flag` and removes both, or def.
bool takeFlag(Args& args, const std::string& flag);
std::string takeOption(Args& args, const std::string& flag, const std::string& def = {});
int usageError(const std::string& message);

}  // namespace strata::app
