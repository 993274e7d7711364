// sandbox_spec_test.cc: the load request's sandbox spec decodes exactly, and every malformed or
// oversized field (what a confused or hostile sender could put there) is refused.
#include "sandbox/sandbox_spec.h"

#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

namespace bulkhead {
namespace {

// Builds a spec as lib/policy.ts encodes it.
class SpecBytes {
 public:
  SpecBytes& U32(uint32_t v) { return Raw(&v, sizeof v); }
  SpecBytes& U64(uint64_t v) { return Raw(&v, sizeof v); }
  SpecBytes& Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    return Raw(s.data(), s.size());
  }
  SpecBytes& Paths(const std::vector<std::string>& paths) {
    U32(static_cast<uint32_t>(paths.size()));
    for (const std::string& p : paths) Str(p);
    return *this;
  }
  std::vector<uint8_t> bytes;

 private:
  SpecBytes& Raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
};

// A valid spec, with the fields a test wants to break as parameters.
std::vector<uint8_t> Spec(std::vector<std::string> read = {"/usr/lib"}, std::string config = "cfg",
                          uint32_t threads = 4, std::vector<std::string> write = {"/tmp/w"},
                          uint32_t magic = kSandboxSpecMagic, uint32_t version = kSandboxSpecVersion) {
  SpecBytes s;
  s.U32(magic).U32(version).U64(1ull << 30).U64(0).U32(128).U32(2).Paths(read).Str(config);
  s.U32(threads).Paths(write);
  s.U64(256ull << 20).U32(12).U64(64ull << 20).U32(50).U32(5);  // plugin, then worker cgroup limits
  return s.bytes;
}

bool Decode(const std::vector<uint8_t>& b, SandboxSpec* out = nullptr) {
  SandboxSpec tmp;
  return DecodeSandboxSpec(b.data(), b.size(), out ? out : &tmp);
}

TEST(SandboxSpec, DecodesEveryField) {
  SandboxSpec s;
  ASSERT_TRUE(Decode(Spec(), &s));
  EXPECT_EQ(s.address_space_bytes, 1ull << 30);
  EXPECT_EQ(s.file_size_bytes, 0u);
  EXPECT_EQ(s.open_files, 128u);
  EXPECT_EQ(s.min_landlock_abi, 2u);
  EXPECT_EQ(s.read_paths, std::vector<std::string>{"/usr/lib"});
  EXPECT_EQ(s.plugin_memory_bytes, 256ull << 20);
  EXPECT_EQ(s.plugin_pids, 12u);
  EXPECT_EQ(s.worker_memory_bytes, 64ull << 20);
  EXPECT_EQ(s.worker_cpu_quota_percent, 50u);
  EXPECT_EQ(s.worker_pids, 5u);
  EXPECT_EQ(std::string(s.config.begin(), s.config.end()), "cfg");
  EXPECT_EQ(s.threads, 4u);
  EXPECT_EQ(s.write_paths, std::vector<std::string>{"/tmp/w"});
}

TEST(SandboxSpec, RefusesEveryTruncation) {
  const std::vector<uint8_t> full = Spec();
  for (size_t n = 0; n < full.size(); n++) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    EXPECT_FALSE(Decode(cut)) << "accepted the first " << n << " bytes";
  }
}

TEST(SandboxSpec, RefusesTrailingBytes) {
  std::vector<uint8_t> b = Spec();
  b.push_back(0);
  EXPECT_FALSE(Decode(b));
}

TEST(SandboxSpec, RefusesAWrongMagicOrVersion) {
  EXPECT_FALSE(Decode(Spec({}, "", 0, {}, kSandboxSpecMagic ^ 1)));
  EXPECT_FALSE(Decode(Spec({}, "", 0, {}, kSandboxSpecMagic, 1)));
  EXPECT_FALSE(Decode(Spec({}, "", 0, {}, kSandboxSpecMagic, kSandboxSpecVersion + 1)));
}

TEST(SandboxSpec, RefusesAPathWithANulByte) {
  EXPECT_FALSE(Decode(Spec({std::string("/usr\0/etc", 9)})));
  EXPECT_FALSE(Decode(Spec({"/usr"}, "", 0, {std::string("/tmp\0", 5)})));
}

TEST(SandboxSpec, RefusesAnEmptyOrOverlongPath) {
  EXPECT_FALSE(Decode(Spec({""})));
  EXPECT_FALSE(Decode(Spec({std::string(4097, 'a')})));
  EXPECT_TRUE(Decode(Spec({std::string(4096, 'a')})));
}

TEST(SandboxSpec, RefusesMoreThan64Paths) {
  EXPECT_TRUE(Decode(Spec(std::vector<std::string>(64, "/p"))));
  EXPECT_FALSE(Decode(Spec(std::vector<std::string>(65, "/p"))));
  EXPECT_FALSE(Decode(Spec({}, "", 0, std::vector<std::string>(65, "/p"))));
}

TEST(SandboxSpec, RefusesAPathCountThatWouldExhaustMemory) {
  SpecBytes s;
  s.U32(kSandboxSpecMagic).U32(kSandboxSpecVersion).U64(0).U64(0).U32(64).U32(0).U32(0xffffffffu);
  EXPECT_FALSE(Decode(s.bytes));
}

TEST(SandboxSpec, RefusesAConfigLengthPastTheEnd) {
  for (uint32_t len : {4u, 0x7fffffffu, 0xffffffffu}) {
    SpecBytes s;
    s.U32(kSandboxSpecMagic).U32(kSandboxSpecVersion).U64(0).U64(0).U32(64).U32(0).U32(0);
    s.U32(len).U32(0).U32(0);  // claims len bytes, then only eight follow
    EXPECT_FALSE(Decode(s.bytes)) << len;
  }
}

TEST(SandboxSpec, RefusesAThreadGrantAboveTheCap) {
  EXPECT_TRUE(Decode(Spec({}, "", kMaxThreadGrant)));
  EXPECT_FALSE(Decode(Spec({}, "", kMaxThreadGrant + 1)));
  EXPECT_FALSE(Decode(Spec({}, "", 0xffffffffu)));
}

TEST(SandboxSpec, WritableDirectoriesNeverGoWithoutAFileSizeLimit) {
  SandboxSpec s;
  EXPECT_EQ(FileSizeLimit(s), 0u);
  s.write_paths = {"/tmp/w"};
  EXPECT_EQ(FileSizeLimit(s), kDefaultWriteFileSizeBytes);
  s.file_size_bytes = 4096;
  EXPECT_EQ(FileSizeLimit(s), 4096u);
}

}  // namespace
}  // namespace bulkhead
