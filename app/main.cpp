// strata: the studio when started without a sub-command (or with a document path), else the CLI.
#include "app/commands.h"

int main(int argc, char** argv) { return strata::app::run(argc, argv); }
