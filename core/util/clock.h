// clock.h — elapsed wall time on the monotonic clock, for phase timings and timeouts.
#pragma once
#include <chrono>

using Clock = std::chrono::steady_clock;

// Seconds from t to now.
inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}
