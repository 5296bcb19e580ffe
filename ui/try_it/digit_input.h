#pragma once
// A digit drawn on the Try-it canvas, framed like the digits a model was trained on. Training
// sets frame their digits in a fixed way, and a classifier learns that framing: the built-in
// `digits` (UCI optdigits, 8x8, also `digits32`) scale each digit's box to fill the frame (the
// height always spans it) and centre it; MNIST (28x28) fits it in a 20x20 box and puts its centre
// of mass at the frame's centre. A drawing fed as drawn (small, off-centre) is misread.
#include <QImage>
#include <vector>

namespace strata::ui {

struct DigitFraming {
    double box = 1.0;  // the largest side of the ink's bounding box, as a fraction of the frame
};

// The framing of the training data a (height, width) one-channel model most likely saw: 28x28 is
// MNIST's (and every IDX digit set copying it); any other size is the built-in digits'.
DigitFraming digitFramingFor(int height, int width);

// `drawing` (light ink on black) as a (height, width) plane in [0, 1]: the ink's bounding box,
// scaled keeping its aspect to fit `framing.box` of the frame, placed so that its centre of mass
// sits at the frame's centre (kept inside the frame). All zeros when nothing is drawn.
std::vector<float> digitInput(const QImage& drawing, int height, int width,
                              DigitFraming framing);

}  // namespace strata::ui
