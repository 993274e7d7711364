// landlock_ruleset_test.cc: which Landlock outcomes a template or worker may go on with.
#include "sandbox/landlock_ruleset.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <string.h>

namespace bulkhead {
namespace {

TEST(LandlockShortfall, AnEnforcedRulesetIsEnough) {
  EXPECT_EQ(LandlockShortfall(7, 4, true), "");
  EXPECT_EQ(LandlockShortfall(1, 0, false), "");
}

TEST(LandlockShortfall, NoLandlockHereIsAcceptableOnlyToSeccompOnlyWithoutFileGrants) {
  for (int rc : {-ENOSYS, -EOPNOTSUPP, -EPERM}) {  // not built, not booted, an outer profile
    EXPECT_EQ(LandlockShortfall(rc, 0, false), "") << rc;
    EXPECT_EQ(LandlockShortfall(rc, 0, true), "file grants need Landlock, which is unavailable here") << rc;
    EXPECT_EQ(LandlockShortfall(rc, 1, false).rfind("landlock: ", 0), 0u) << rc;
  }
}

TEST(LandlockShortfall, AnyOtherFailureStopsEvenSeccompOnly) {
  EXPECT_EQ(LandlockShortfall(-EINVAL, 0, false), std::string("landlock: ") + strerror(EINVAL));
  EXPECT_EQ(LandlockShortfall(-ENOTSUP, 4, false), std::string("landlock: ") + strerror(ENOTSUP));  // weaker ABI
}

}  // namespace
}  // namespace bulkhead
