// Safetensors parsing and WeightStore lookups, including every class of broken file we refuse.
#include "weights/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "test_util.h"
#include "weights/weight_store.h"

namespace lfm {
namespace {

std::string MakeFile(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string Floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

Result<SafetensorsHeader> Parse(const std::string& bytes) {
  return ParseSafetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.safetensors");
}

// The parse fails and the message contains every one of `needles`.
void ExpectError(const std::string& bytes, std::initializer_list<const char*> needles,
                 StatusCode code = StatusCode::kInvalidArgument) {
  auto r = Parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  for (const char* n : needles) EXPECT_NE(r.status().message().find(n), std::string::npos) << r.status().ToString();
}

const std::string kGoodHeader =
    R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
    R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})";

TEST(Safetensors, ParsesAValidFile) {
  std::string data = Floats({1, 2, 3, 4}) + std::string("\x80\x3f\x00\x40\x40\x40", 6);
  auto r = Parse(MakeFile(kGoodHeader, data));
  ASSERT_OK(r);
  ASSERT_EQ(r->tensors.size(), 2u);
  EXPECT_EQ(r->tensors[0].name, "a");
  EXPECT_EQ(r->tensors[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r->tensors[1].dtype, DType::kBF16);
  EXPECT_EQ(r->metadata.at("format"), "pt");
  EXPECT_EQ(r->data_offset, 8 + kGoodHeader.size());
}

TEST(Safetensors, RejectsBrokenHeaders) {
  const std::string d16 = Floats({1, 2, 3, 4});
  ExpectError("abc", {"x.safetensors", "too short"});
  {
    std::string f = MakeFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats({1}));
    ExpectError(f.substr(0, 20), {"x.safetensors", "past the end"});  // header length past EOF
    std::string huge = f;
    huge[5] = 0x7f;
    ExpectError(huge, {"header length"});
  }
  ExpectError(MakeFile("{\"a\": [1,", ""), {"x.safetensors", "not valid JSON"});
  ExpectError(MakeFile("[1,2]", ""), {"not an object"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", d16),
              {"'a'", "[2, 2]", "16 bytes", "span 12"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}})", d16),
              {"'a'", "past the data area"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                       d16),
              {"'a'", "'b'", "overlap"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", d16), {"reversed"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", d16), {"'a'", "shape"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", d16), {"data_offsets"});
  ExpectError(MakeFile(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", d16), {"'a'", "dtype"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", d16),
              {"'a'", "F64", "not supported"}, StatusCode::kUnsupported);
  ExpectError(MakeFile(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", d16), {"'a'", "Q7"});
  ExpectError(MakeFile(R"({"__metadata__":{"k":1}})", ""), {"__metadata__"});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", d16),
              {"too large"});
}

// nlohmann keeps the last of two equal keys: the first entry for "a" was silently dropped.
TEST(Safetensors, RejectsATensorListedTwice) {
  const std::string d16 = Floats({1, 2, 3, 4});
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                       d16),
              {"x.safetensors", "tensor 'a'", "listed twice"});
  // Equal keys deeper down (inside one entry) are nlohmann's business, not a second tensor.
  ExpectError(MakeFile(R"({"a":{"dtype":"F32","dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", d16), {"'a'", "Q7"});
}

TEST(Safetensors, RejectsDeepHeadersBeforeParsing) {
  ExpectError(MakeFile(std::string(100000, '[') + std::string(100000, ']'), ""),
              {"x.safetensors: header", "JSON nesting deeper than 128"});
}

TEST(Safetensors, RealTinyModelOpensAndTruncatedCopiesFail) {
  const std::string path = testing::TestData("lfm2-synthetic/tiny-lfm2/model.safetensors");
  auto f = SafetensorsFile::Open(path);
  ASSERT_OK(f);
  bool found = false;
  for (const auto& e : (*f)->header().tensors) {
    if (e.name == "model.layers.0.conv.conv.weight") {
      found = true;
      EXPECT_EQ(e.shape, (std::vector<int64_t>{64, 1, 3}));
      EXPECT_EQ(e.dtype, DType::kF32);
    }
  }
  EXPECT_TRUE(found);
  auto bytes = ReadFileToString(path);
  ASSERT_OK(bytes);
  const std::string dir = testing::ScratchDir("safetensors_truncated");
  for (size_t keep : {size_t{4}, size_t{100}, bytes->size() - 1}) {
    const std::string p = dir + "/cut" + std::to_string(keep) + ".safetensors";
    ASSERT_TRUE(WriteStringToFile(p, bytes->substr(0, keep)).ok());
    auto bad = SafetensorsFile::Open(p);
    ASSERT_FALSE(bad.ok()) << keep;
    EXPECT_NE(bad.status().message().find(p), std::string::npos) << bad.status().ToString();
  }
  auto missing = SafetensorsFile::Open(dir + "/nope.safetensors");
  EXPECT_FALSE(missing.ok());
}

TEST(WeightStore, ShardedIndexAndFailClosedLookups) {
  const std::string dir = testing::ScratchDir("weight_store_sharded");
  ASSERT_TRUE(WriteStringToFile(dir + "/s1.safetensors",
                                MakeFile(R"({"x.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})",
                                         Floats({1, 2, 3, 4})))
                  .ok());
  ASSERT_TRUE(WriteStringToFile(dir + "/s2.safetensors",
                                MakeFile(R"({"y.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                         Floats({5})))
                  .ok());
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors.index.json",
                                R"({"metadata":{},"weight_map":{"x.weight":"s1.safetensors","y.weight":"s2.safetensors"}})")
                  .ok());
  auto store = WeightStore::OpenDirectory(dir);
  ASSERT_OK(store);
  EXPECT_EQ((*store)->size(), 2u);
  auto y = (*store)->Get("y.weight", {1});
  ASSERT_OK(y);
  float y0;  // tensors need not be 4-byte aligned in the file
  std::memcpy(&y0, y->data, 4);
  EXPECT_EQ(y0, 5.0f);
  EXPECT_EQ((*store)->SourceFile("x.weight"), dir + "/s1.safetensors");

  auto missing = (*store)->Get("z.weight");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'z.weight'"), std::string::npos);
  auto wrong = (*store)->Get("x.weight", {4});
  ASSERT_FALSE(wrong.ok());
  const std::string& m = wrong.status().message();
  EXPECT_NE(m.find("s1.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("'x.weight'"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 2]"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [4]"), std::string::npos) << m;

  // Index naming a tensor its shard lacks, a missing shard, and a path escaping the directory.
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors.index.json",
                                R"({"weight_map":{"q.weight":"s1.safetensors"}})").ok());
  auto r1 = WeightStore::OpenDirectory(dir);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("q.weight"), std::string::npos);
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors.index.json",
                                R"({"weight_map":{"x.weight":"gone.safetensors"}})").ok());
  auto r2 = WeightStore::OpenDirectory(dir);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("gone.safetensors"), std::string::npos);
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors.index.json",
                                R"({"weight_map":{"x.weight":"../s1.safetensors"}})").ok());
  EXPECT_FALSE(WeightStore::OpenDirectory(dir).ok());
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors.index.json", "{oops").ok());
  auto r3 = WeightStore::OpenDirectory(dir);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("index.json"), std::string::npos);
  // The same tensor in two shards is ambiguous.
  auto dup = WeightStore::OpenSafetensors({dir + "/s1.safetensors", dir + "/s1.safetensors"});
  EXPECT_FALSE(dup.ok());
  EXPECT_FALSE(WeightStore::OpenDirectory(dir + "/nodir").ok());
}

}  // namespace
}  // namespace lfm
