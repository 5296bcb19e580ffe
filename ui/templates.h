#pragma once
// Starting points offered by the start page, built in code with GraphEdit so they always match
// the layer catalogue: a template that needs a layer this build lacks is refused with its name.
#include <QString>
#include <vector>

#include "core/io/document.h"

namespace strata::ui {

struct TemplateInfo {
    QString id;     // "lenet5"
    QString title;  // "LeNet-5"
    QString summary;
};

const std::vector<TemplateInfo>& templates();
Result<Document> buildTemplate(const QString& id);

}  // namespace strata::ui
