// strata: the studio when started without a sub-command (or with a document path), else the CLI.
#include "app/commands.h"

#ifdef HAVE_STRATA_UI
#include "ui/data/image_folder_dataset.h"
#endif

int main(int argc, char** argv) {
#ifdef HAVE_STRATA_UI
    // Image folders decode with Qt; registering here lets `strata train` read them too.
    strata::ui::registerImageFolderFormat();
#endif
    return strata::app::run(argc, argv);
}
