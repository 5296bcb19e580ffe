#include "ui/try_it/digit_input.h"

#include <algorithm>
#include <cmath>

namespace strata::ui {

DigitFraming digitFramingFor(int height, int width) {
    if (height == 28 && width == 28) return {.box = 20.0 / 28.0};
    return {.box = 1.0};
}

namespace {

// For each output cell k along one axis: the source pixels its footprint [k, k + 1) covers once
// mapped back (src = (k - offset) / scale), and how much of each, as fractions of the footprint.
struct Coverage {
    int first = 0;
    std::vector<double> weights;
};

std::vector<Coverage> coverage(int cells, int sourceSize, double scale, double offset) {
    std::vector<Coverage> out(static_cast<size_t>(cells));
    for (int k = 0; k < cells; ++k) {
        const double a = (k - offset) / scale, b = (k + 1 - offset) / scale;
        const int first = std::max(0, int(std::floor(a)));
        const int last = std::min(sourceSize - 1, int(std::ceil(b)) - 1);
        Coverage& c = out[size_t(k)];
        c.first = first;
        for (int i = first; i <= last; ++i) {
            const double overlap = std::min(b, i + 1.0) - std::max(a, double(i));
            c.weights.push_back(std::max(0.0, overlap) * scale);
        }
    }
    return out;
}

}  // namespace

std::vector<float> digitInput(const QImage& drawing, int height, int width,
                              DigitFraming framing) {
    std::vector<float> out(size_t(height) * size_t(width), 0.0f);  // (height, width)
    const QImage grey = drawing.convertToFormat(QImage::Format_Grayscale8);
    const int sw = grey.width(), sh = grey.height();
    int left = sw, right = -1, top = sh, bottom = -1;
    double mass = 0, mx = 0, my = 0;
    for (int y = 0; y < sh; ++y) {
        const uchar* row = grey.constScanLine(y);
        for (int x = 0; x < sw; ++x) {
            if (!row[x]) continue;
            left = std::min(left, x);
            right = std::max(right, x);
            top = std::min(top, y);
            bottom = std::max(bottom, y);
            mass += row[x];
            mx += row[x] * (x + 0.5);  // continuous coordinates: pixel i covers [i, i + 1)
            my += row[x] * (y + 0.5);
        }
    }
    if (right < 0) return out;
    mx /= mass;
    my /= mass;

    // Keeping the aspect: a "1" stays a thin stroke instead of a filled box.
    const double inkW = right - left + 1, inkH = bottom - top + 1;
    const double scale = std::min(framing.box * width / inkW, framing.box * height / inkH);
    // The centre of mass goes to the frame's centre, unless that pushes ink out of the frame (a
    // box that fills an axis, as the digits set's height does, has exactly one place along it).
    auto place = [&](double frame, double com, double low, double extent) {
        const double lowest = (com - low) * scale;                      // box touches 0
        const double highest = frame - (low + extent - com) * scale;    // box touches `frame`
        return std::clamp(frame / 2, std::min(lowest, highest), std::max(lowest, highest));
    };
    const double comX = place(width, mx, left, inkW);
    const double comY = place(height, my, top, inkH);
    // Output coordinate = (source - com) * scale + comOut = source * scale + offset. Each output
    // pixel averages the source over its footprint (exact box filtering, sub-pixel placement):
    // where on the canvas the digit was drawn changes nothing but the antialiasing.
    const auto cols = coverage(width, sw, scale, comX - mx * scale);
    const auto rows = coverage(height, sh, scale, comY - my * scale);
    // (sw): one output row, averaged over the source rows it covers
    std::vector<double> band(static_cast<size_t>(sw));
    for (int y = 0; y < height; ++y) {
        std::fill(band.begin(), band.end(), 0.0);
        const Coverage& r = rows[size_t(y)];
        for (size_t j = 0; j < r.weights.size(); ++j) {
            const uchar* src = grey.constScanLine(r.first + int(j));
            for (int x = 0; x < sw; ++x) band[size_t(x)] += r.weights[j] * src[x];
        }
        for (int x = 0; x < width; ++x) {
            const Coverage& c = cols[size_t(x)];
            double v = 0;
            for (size_t i = 0; i < c.weights.size(); ++i) {
                v += c.weights[i] * band[size_t(c.first) + i];
            }
            out[size_t(y) * size_t(width) + size_t(x)] = float(std::min(1.0, v / 255.0));
        }
    }
    return out;
}

}  // namespace strata::ui
