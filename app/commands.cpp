#include "app/commands.h"

#include <cstdio>
#include <cstring>
#include <iostream>
#ifdef HAVE_STRATA_GPU
#include "gpu/vulkan_backend.h"
#endif

namespace strata::app {

int cmdLayers(const Args& args);
int cmdValidate(const Args& args);
int cmdInfo(const Args& args);
int cmdTrain(const Args& args);
int cmdPredict(const Args& args);
int cmdDevices(const Args& args);
int cmdBench(const Args& args);

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"layers", "layers [--markdown]", "list every layer type with its ports and parameters",
         cmdLayers},
        {"validate", "validate FILE", "check a document; exit 1 with every error by node",
         cmdValidate},
        {"info", "info FILE", "table of nodes: type, output shape, parameters, FLOPs", cmdInfo},
        {"train", "train FILE [options]",
         "train the graph on its data; --epochs --batch-size --lr --optimizer --device --seed "
         "--out --checkpoint-dir --resume --json",
         cmdTrain},
        {"predict", "predict MODEL [options]",
         "run an exported model on its validation data or --input FILE; --out --device "
         "--batch-size --limit",
         cmdPredict},
        {"devices", "devices [--device D]", "list Vulkan devices and the CPU backend; which one "
         "auto picks", cmdDevices},
        {"bench", "bench --kernels|--workload W|--profile W|--ui",
         "GEMM GFLOP/s and dispatch cost; training workloads W1-W4 (or all) with --device "
         "--steps --warmup --threads; one step's time per op; --ui: the studio's event-loop "
         "latency while the largest sample trains",
         cmdBench},
    };
    return table;
}

static void printHelp() {
    std::cout << "Strata " STRATA_VERSION " - build neural networks visually and train them on the GPU\n\n"
                 "Usage:\n"
                 "  strata [FILE.strata.json]     open the studio (on FILE)\n";
    for (const auto& c : commands()) {
        std::string syn = std::string("strata ") + c.synopsis;
        std::cout << "  " << syn << std::string(syn.size() < 30 ? 30 - syn.size() : 1, ' ')
                  << c.summary << "\n";
    }
    std::cout << "  strata --help | --version\n\n"
                 "Exit codes: 0 success, 1 invalid document or failed run, 2 bad command line,\n"
                 "3 a file could not be read or written, 4 interrupted (work so far is saved).\n";
}

bool takeFlag(Args& args, const std::string& flag) {
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (*it == flag) {
            args.erase(it);
            return true;
        }
    }
    return false;
}

std::string takeOption(Args& args, const std::string& flag, const std::string& def) {
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (*it == flag) {
            if (it + 1 == args.end()) {
                throw std::invalid_argument("option " + flag + " needs a value");
            }
            std::string v = *(it + 1);
            args.erase(it, it + 2);
            return v;
        }
        if (it->rfind(flag + "=", 0) == 0) {
            std::string v = it->substr(flag.size() + 1);
            args.erase(it);
            return v;
        }
    }
    return def;
}

int usageError(const std::string& message) {
    std::cerr << "strata: " << message << "\nRun 'strata --help' for usage.\n";
    return kUsage;
}

int run(int argc, char** argv) {
#ifdef HAVE_STRATA_GPU
    gpu::registerVulkanBackend();  // --device vulkan|vulkan:N|auto reach the Vulkan engine
#endif
    Args args(argv + 1, argv + argc);
    if (args.empty() || (args.size() == 1 && args[0].ends_with(".json"))) {
        return runStudio(argc, argv);
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printHelp();
        return kOk;
    }
    if (args[0] == "--version") {
        std::cout << "strata " STRATA_VERSION "\n";
        return kOk;
    }
    for (const auto& c : commands()) {
        if (args[0] == c.name) {
            Args rest(args.begin() + 1, args.end());
            try {
                return c.run(rest);
            } catch (const std::invalid_argument& e) {
                return usageError(e.what());
            }
        }
    }
    return usageError("unknown command '" + args[0] + "'");
}

}  // namespace strata::app
