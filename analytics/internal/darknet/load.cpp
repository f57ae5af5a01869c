#include <stdlib.h>
#include <string.h>
#include <exception>
#include <opencv2/dnn.hpp>
#include "load.h"

// OpenCV reports bad models with C++ exceptions; cgo cannot catch them, so
// they are turned into a message here.
char* hallwatch_darknet_try(const char* cfg, size_t cfg_len, const char* weights, size_t weights_len, int size) {
    try {
        cv::dnn::Net net = cv::dnn::readNetFromDarknet(cfg, cfg_len, weights, weights_len);
        if (net.empty()) {
            return strdup("OpenCV returned an empty network");
        }
        int dims[] = {1, 3, size, size};
        cv::Mat blob(4, dims, CV_32F, cv::Scalar(0.5));
        net.setInput(blob);
        std::vector<cv::Mat> outs;
        net.forward(outs, net.getUnconnectedOutLayersNames());
        return NULL;
    } catch (const std::exception& e) {
        return strdup(e.what());
    } catch (...) {
        return strdup("unknown OpenCV error");
    }
}
