// crash_report_test.cc: what a plugin could leave in its crash slot, and the host's distrust of it.
#include "ring/crash_report.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>

#include <string>

namespace bulkhead {
namespace {

void Put(char* field, size_t n, const std::string& s) {
  memset(field, 0, n);
  memcpy(field, s.data(), std::min(n, s.size()));
}

bh_crash_frame Frame(uint32_t module, uint64_t offset, const std::string& symbol = "",
                     const std::string& module_name = "") {
  bh_crash_frame f{};
  f.module = module;
  f.offset = offset;
  Put(f.symbol, sizeof f.symbol, symbol);
  Put(f.module_name, sizeof f.module_name, module_name);
  return f;
}

// The report crash_deep leaves: two plugin frames, libc, then code in no module.
bh_crash Raw() {
  bh_crash c{};
  c.kind = BH_CRASH_MAGIC;
  c.signo = SIGSEGV;
  c.code = 1;
  c.addr = 0;
  c.frame_count = 4;
  c.frames[0] = Frame(BH_CRASH_MODULE_PLUGIN, 0x5404, "bh_deep_c");
  c.frames[1] = Frame(BH_CRASH_MODULE_PLUGIN, 0x541d, "bh_deep_b");
  c.frames[2] = Frame(BH_CRASH_MODULE_OTHER, 0x27305, "__libc_start_main", "libc.so.6");
  c.frames[3] = Frame(BH_CRASH_MODULE_UNKNOWN, 0xdead, "ignored");
  return c;
}

TEST(CrashReport, TurnsAWellFormedReportIntoNamedFrames) {
  CrashReport r;
  ASSERT_TRUE(ValidateCrashReport(Raw(), &r));
  EXPECT_STREQ(r.signal, "SIGSEGV");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.address, 0u);
  ASSERT_EQ(r.frames.size(), 4u);
  EXPECT_EQ(r.frames[0].module, "plugin");
  EXPECT_EQ(r.frames[0].offset, 0x5404u);
  EXPECT_EQ(r.frames[0].symbol, "bh_deep_c");
  EXPECT_EQ(r.frames[2].module, "libc.so.6");
  EXPECT_EQ(r.frames[2].symbol, "__libc_start_main");
  EXPECT_EQ(r.frames[3].module, "<unknown>");
  EXPECT_EQ(r.frames[3].offset, 0xdeadu);
  EXPECT_EQ(r.frames[3].symbol, "");  // a frame in no module has no symbol, whatever was written
}

TEST(CrashReport, ReadsNoFrameBeyondTheCount) {
  bh_crash c = Raw();
  c.frame_count = 1;
  c.frames[1].module = 99;  // would reject the report if it were read
  CrashReport r;
  ASSERT_TRUE(ValidateCrashReport(c, &r));
  EXPECT_EQ(r.frames.size(), 1u);
}

struct Reject {
  const char* hazard;
  void (*mutate)(bh_crash*);
};

class CrashReportReject : public ::testing::TestWithParam<Reject> {};

TEST_P(CrashReportReject, RejectsTheWholeReport) {
  bh_crash c = Raw();
  GetParam().mutate(&c);
  CrashReport r;
  r.code = 12345;
  EXPECT_FALSE(ValidateCrashReport(c, &r)) << GetParam().hazard;
  EXPECT_EQ(r.code, 12345) << "a rejected report leaves the output alone";
}

INSTANTIATE_TEST_SUITE_P(
    Hazards, CrashReportReject,
    ::testing::Values(Reject{"no report (kind 0)", [](bh_crash* c) { c->kind = 0; }},
                      Reject{"a wrong magic", [](bh_crash* c) { c->kind = BH_CRASH_MAGIC ^ 1; }},
                      Reject{"SIGKILL", [](bh_crash* c) { c->signo = SIGKILL; }},
                      Reject{"SIGSYS (violations are reported elsewhere)", [](bh_crash* c) { c->signo = SIGSYS; }},
                      Reject{"signal 0", [](bh_crash* c) { c->signo = 0; }},
                      Reject{"a signal number out of range", [](bh_crash* c) { c->signo = 0xffffffffu; }},
                      Reject{"zero frames", [](bh_crash* c) { c->frame_count = 0; }},
                      Reject{"17 frames", [](bh_crash* c) { c->frame_count = 17; }},
                      Reject{"a huge frame count", [](bh_crash* c) { c->frame_count = 0xffffffffu; }},
                      Reject{"a module kind out of range", [](bh_crash* c) { c->frames[1].module = 3; }},
                      Reject{"a negative module kind", [](bh_crash* c) { c->frames[1].module = 0xffffffffu; }}));

TEST(CrashReport, NamesEveryFatalSignalTheHandlerCovers) {
  const std::pair<int, const char*> signals[] = {{SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},
                                                 {SIGILL, "SIGILL"},   {SIGFPE, "SIGFPE"},
                                                 {SIGABRT, "SIGABRT"}, {SIGTRAP, "SIGTRAP"}};
  for (const auto& [signo, name] : signals) {
    bh_crash c = Raw();
    c.signo = static_cast<uint32_t>(signo);
    CrashReport r;
    ASSERT_TRUE(ValidateCrashReport(c, &r)) << name;
    EXPECT_STREQ(r.signal, name);
  }
}

TEST(CrashReport, KeepsNegativeCodesAndHighAddresses) {
  bh_crash c = Raw();
  c.code = -6;  // SI_TKILL
  c.addr = ~0ull;
  c.frames[0].offset = ~0ull;
  CrashReport r;
  ASSERT_TRUE(ValidateCrashReport(c, &r));
  EXPECT_EQ(r.code, -6);
  EXPECT_EQ(r.address, ~0ull);
  EXPECT_EQ(r.frames[0].offset, ~0ull);
}

class CrashReportBadSymbol : public ::testing::TestWithParam<std::pair<const char*, std::string>> {};

TEST_P(CrashReportBadSymbol, OmitsTheSymbolKeepsTheFrame) {
  bh_crash c = Raw();
  Put(c.frames[0].symbol, sizeof c.frames[0].symbol, GetParam().second);
  CrashReport r;
  ASSERT_TRUE(ValidateCrashReport(c, &r)) << GetParam().first;
  EXPECT_EQ(r.frames[0].module, "plugin");
  EXPECT_EQ(r.frames[0].offset, 0x5404u);
  EXPECT_EQ(r.frames[0].symbol, "") << GetParam().first;
}

INSTANTIATE_TEST_SUITE_P(
    Hazards, CrashReportBadSymbol,
    ::testing::Values(std::make_pair("a control character", std::string("bad\x01name")),
                      std::make_pair("DEL", std::string("bad\x7fname")),
                      std::make_pair("a non-ASCII byte", std::string("caf\xe9")),
                      std::make_pair("a newline (log injection)", std::string("fn\nERROR forged")),
                      std::make_pair("a quote", std::string("fn\"")),
                      std::make_pair("a slash (a path)", std::string("/etc/passwd")),
                      std::make_pair("an empty name", std::string("")),
                      std::make_pair("a full field without a NUL", std::string(48, 'A'))));

TEST(CrashReport, StopsASymbolAtItsNul) {
  bh_crash c = Raw();
  memcpy(c.frames[0].symbol + 10, "SECRET", 6);  // after "bh_deep_c\0"
  CrashReport r;
  ASSERT_TRUE(ValidateCrashReport(c, &r));
  EXPECT_EQ(r.frames[0].symbol, "bh_deep_c");
}

TEST(CrashReport, NamesAnotherModuleWithAnInvalidBasenameOther) {
  for (const std::string& name : {std::string(""), std::string("libc\x1b[31m.so"),
                                 std::string("../../etc/passwd"), std::string("plugin"),
                                 std::string(24, 'a')}) {
    bh_crash c = Raw();
    Put(c.frames[2].module_name, sizeof c.frames[2].module_name, name);
    CrashReport r;
    ASSERT_TRUE(ValidateCrashReport(c, &r)) << name;
    EXPECT_EQ(r.frames[2].module, "<other>") << name;
  }
}

}  // namespace
}  // namespace bulkhead
