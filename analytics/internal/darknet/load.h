#ifndef HALLWATCH_DARKNET_LOAD_H
#define HALLWATCH_DARKNET_LOAD_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
// Loads the network from the cfg and weights contents and runs one forward
// pass at size x size; returns NULL on success or a malloc'd message the
// caller frees.
char* hallwatch_darknet_try(const char* cfg, size_t cfg_len, const char* weights, size_t weights_len, int size);
#ifdef __cplusplus
}
#endif
#endif
