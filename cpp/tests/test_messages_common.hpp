// test_messages_common.hpp — small assertion helpers for the message tests.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>

namespace horus_test {

/// Runs f, expects exception E, returns its message (empty + failure otherwise).
template <typename E, typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type: " << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected exception not thrown";
    return {};
}

}  // namespace horus_test

#define EXPECT_HAS(msg, sub) EXPECT_NE((msg).find(sub), std::string::npos) << (msg)
