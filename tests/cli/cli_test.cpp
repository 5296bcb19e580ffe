// The strata binary as a user runs it: exit codes, what it prints, and docs/layers.md kept in
// step with `strata layers --markdown`.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/cli_helpers.h"

namespace {

using namespace strata::test;

TEST(Cli, HelpListsTheCommandsAndExitCodes) {
    Outcome r = runStrata("--help");
    EXPECT_EQ(r.code, 0);
    for (const char* cmd : {"layers", "validate FILE", "info FILE", "Exit codes"}) {
        EXPECT_TRUE(contains(r.out, cmd)) << cmd << " missing from:\n" << r.out;
    }
}

TEST(Cli, VersionPrintsTheProjectVersion) {
    Outcome r = runStrata("--version");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, std::string("strata ") + STRATA_VERSION + "\n");
}

TEST(Cli, UnknownCommandIsAUsageError) {
    Outcome r = runStrata("frobnicate");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(contains(r.err, "unknown command 'frobnicate'")) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(Cli, LayersListsTheCatalogue) {
    Outcome r = runStrata("layers");
    EXPECT_EQ(r.code, 0);
    for (const char* id : {"input ", "linear ", "conv2d ", "lstm ", "cross_entropy "}) {
        EXPECT_TRUE(contains(r.out, std::string("\n") + id) || r.out.rfind(id, 0) == 0)
            << id << " missing from:\n" << r.out;
    }
    EXPECT_EQ(runStrata("layers --bogus").code, 2);
}

TEST(Cli, ValidateAcceptsTheSample) {
    Outcome r = runStrata("validate samples/lenet5/lenet5.strata.json");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "samples/lenet5/lenet5.strata.json: valid (15 nodes, 61,706 parameters)\n");
}

TEST(Cli, ValidateListsEveryProblemByNode) {
    TempDir dir;
    const fs::path file = dir.path() / "broken.strata.json";
    // conv2d after flatten (a shape error), and an unconnected relu that leads nowhere.
    std::ofstream(file) << R"({"format": "strata", "version": 1, "graph": {
      "nodes": [
        {"id": "x", "type": "input", "params": {"shape": [1, 8, 8]}},
        {"id": "flatten1", "type": "flatten"},
        {"id": "conv2", "type": "conv2d"},
        {"id": "stray", "type": "relu"},
        {"id": "y", "type": "input", "params": {"shape": [4]}},
        {"id": "loss", "type": "mse"}
      ],
      "links": [
        {"from": "x.out", "to": "flatten1.in"},
        {"from": "flatten1.out", "to": "conv2.in"},
        {"from": "conv2.out", "to": "loss.input"},
        {"from": "y.out", "to": "loss.target"}
      ]}})";
    Outcome r = runStrata("validate " + quoted(file.string()));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "conv2d 'conv2' expects a 4-D input")) << r.err;
    EXPECT_TRUE(contains(r.err, "'flatten1' gives (N, 64)")) << r.err;
    EXPECT_TRUE(contains(r.err, "relu 'stray' has nothing connected")) << r.err;
    EXPECT_TRUE(contains(r.err, "relu 'stray' does not lead to the loss")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(Cli, ValidateRefusesAMalformedDocumentWithThePath) {
    TempDir dir;
    const fs::path file = dir.path() / "bad.strata.json";
    std::ofstream(file) << R"({"format": "strata", "version": 1, "graph": {"nodes": [
        {"id": "c", "type": "conv3d"}]}})";
    Outcome r = runStrata("validate " + quoted(file.string()));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "/graph/nodes/0/type: unknown layer type 'conv3d'")) << r.err;

    std::ofstream(file) << R"({"format": "strata", "version": 2, "graph": {"nodes": []}})";
    r = runStrata("validate " + quoted(file.string()));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "was written by a newer Strata (version 2)")) << r.err;

    std::ofstream(file) << "{\"format\": ";
    r = runStrata("validate " + quoted(file.string()));
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "not valid JSON")) << r.err;
}

TEST(Cli, ValidateOfAMissingFileIsAnIoError) {
    Outcome r = runStrata("validate no/such/model.strata.json");
    EXPECT_EQ(r.code, 3);
    EXPECT_TRUE(contains(r.err, "cannot open no/such/model.strata.json")) << r.err;
    EXPECT_EQ(runStrata("validate").code, 2);
    EXPECT_EQ(runStrata("validate a.json b.json").code, 2);
}

TEST(Cli, InfoReportsLeNet5) {
    Outcome r = runStrata("info samples/lenet5/lenet5.strata.json");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "61,706")) << r.out;
    for (const char* cell : {"node", "output shape", "FLOPs", "conv1", "conv2d", "(N, 6, 28, 28)",
                             "48,120", "activation memory per sample"}) {
        EXPECT_TRUE(contains(r.out, cell)) << cell << " missing from:\n" << r.out;
    }
    // conv1 row: 6 x 28 x 28 outputs, each 25 multiply-adds plus the bias.
    EXPECT_TRUE(contains(r.out, "239,904")) << r.out;
    EXPECT_EQ(runStrata("info no/such/file.json").code, 3);
}

TEST(Cli, LayersMarkdownMatchesDocs) {
    Outcome r = runStrata("layers --markdown");
    ASSERT_EQ(r.code, 0);
    const std::string committed = slurp(kSource / "docs" / "layers.md");
    EXPECT_TRUE(committed == r.out)
        << "docs/layers.md is stale. Regenerate it with\n"
           "  ./build/app/strata layers --markdown > docs/layers.md\n"
           "and commit it.";
}

}  // namespace
