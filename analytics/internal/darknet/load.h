#ifndef HALLWATCH_DARKNET_LOAD_H
#define HALLWATCH_DARKNET_LOAD_H
#ifdef __cplusplus
extern "C" {
#endif
// Loads the network and runs one forward pass at size x size; returns NULL
// on success or a malloc'd message the caller frees.
char* hallwatch_darknet_try(const char* cfg, const char* weights, int size);
#ifdef __cplusplus
}
#endif
#endif
