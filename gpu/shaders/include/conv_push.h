// conv2d as im2col + GEMM: the column layout shared by im2col, col2im and the GEMMs is
// (C*k*k, samples, OH*OW): row (c*k + ky)*k + kx holds what tap (ky, kx) of input channel c sees
// at every output position of every sample in the chunk, so a group's rows are one contiguous
// (Cg*k*k, samples*OH*OW) matrix and one GEMM covers the whole chunk.
#ifndef STRATA_CONV_PUSH_H
#define STRATA_CONV_PUSH_H
#include "push_shim.h"

STRATA_STRUCT_BEGIN(Im2colPush)
    uint samples;   // images in this chunk
    uint channels;  // C, all groups
    uint height;    // input H, W
    uint width;
    uint outH;      // output OH, OW
    uint outW;
    uint kernel;    // square k
    uint stride;
    uint padding;
    uint dilation;
    uint offImg;    // im2col: the images read; col2im: the image gradient added into
    uint offCol;    // im2col: the columns written; col2im: the column gradient read
STRATA_STRUCT_END(Im2colPush, 48)

// dst (d1, d0, inner) = src (d0, d1, inner) [+ bias[j0]]: moves the GEMM's (O, samples, P)
// result into the (samples, O, P) output with the bias added, and the output gradient back.
STRATA_STRUCT_BEGIN(ConvRegroupPush)
    uint d0;
    uint d1;
    uint inner;
    uint offSrc;
    uint offDst;
    uint offBias;
    uint hasBias;
STRATA_STRUCT_END(ConvRegroupPush, 28)

#endif
